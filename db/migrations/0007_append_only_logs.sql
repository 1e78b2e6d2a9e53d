-- The audit log and the API request log are append-only. UPDATE is always refused; DELETE only
-- for a row older than its organization's retention (the retention job), or when the
-- organization itself is being deleted (its row is already gone when the cascade reaches here).
CREATE OR REPLACE FUNCTION smarfle_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  keep_days integer;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION '% is append-only: it cannot be truncated', TG_TABLE_NAME;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION '% is append-only: entry % cannot be changed', TG_TABLE_NAME, OLD.id;
  END IF;
  SELECT CASE WHEN TG_TABLE_NAME = 'audit_log' THEN o.audit_retention_days ELSE o.request_log_retention_days END
    INTO keep_days FROM organizations o WHERE o.id = OLD.org_id;
  IF NOT FOUND OR OLD.created_at < now() - make_interval(days => keep_days) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: entry % is within its % day retention', TG_TABLE_NAME, OLD.id, keep_days;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION smarfle_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION smarfle_append_only();
--> statement-breakpoint
CREATE TRIGGER api_requests_append_only BEFORE UPDATE OR DELETE ON api_requests FOR EACH ROW EXECUTE FUNCTION smarfle_append_only();
--> statement-breakpoint
CREATE TRIGGER api_requests_no_truncate BEFORE TRUNCATE ON api_requests FOR EACH STATEMENT EXECUTE FUNCTION smarfle_append_only();
