-- Servers keep verified API keys in memory. Any change that can alter what a key may do (its
-- revocation, expiry, scopes; its org's plan, rate-limit override, lead-capture settings; a
-- deletion) notifies them on the channel smarfle_credentials with the org's id, at commit, from
-- whatever made the change: the app, the CLI or plain SQL. Columns that change on every request
-- (last_used_at, record_count) are left out so their writes notify nobody.
CREATE OR REPLACE FUNCTION smarfle_notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('smarfle_credentials', to_jsonb(OLD) ->> TG_ARGV[0]);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER api_keys_notify_credentials
  AFTER UPDATE OF org_id, name, prefix, hash, scopes, expires_at, revoked_at, rotated_to_id OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION smarfle_notify_credentials('org_id');
--> statement-breakpoint
CREATE TRIGGER organizations_notify_credentials
  AFTER UPDATE OF slug, name, plan, rate_limit_rpm, lead_allowed_origins, lead_redirect_urls OR DELETE ON organizations
  FOR EACH ROW EXECUTE FUNCTION smarfle_notify_credentials('id');
