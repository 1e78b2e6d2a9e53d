import { requireMembership } from "@/lib/auth/session";
import { hasRole } from "@/lib/orgs/service";
import { NavLink } from "@/components/shell/nav-link";

/** Settings sub-navigation: admins see the integration pages; members see the organization and its members. */
export default async function SettingsLayout({ children, params }: { children: React.ReactNode; params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const base = `/${me.org.slug}/settings`;
  const admin = hasRole(me.role, "admin");
  return (
    <div className="flex gap-8">
      <nav aria-label="Settings" className="w-44 shrink-0 space-y-0.5">
        <NavLink href={base} exact>
          General
        </NavLink>
        <NavLink href={`${base}/members`}>Members</NavLink>
        {admin ? (
          <>
            <p className="px-2.5 pt-3 pb-1 text-xs font-medium tracking-wide text-slate-400 uppercase">Integrations</p>
            <NavLink href={`${base}/api-keys`}>API keys</NavLink>
            <NavLink href={`${base}/usage`}>Usage</NavLink>
            <NavLink href={`${base}/lead-capture`}>Lead capture</NavLink>
            <NavLink href={`${base}/webhooks`}>Webhooks</NavLink>
            <p className="px-2.5 pt-3 pb-1 text-xs font-medium tracking-wide text-slate-400 uppercase">Data in</p>
            <NavLink href={`${base}/inbound`}>Inbound webhooks</NavLink>
            <NavLink href={`${base}/connectors`}>Connectors</NavLink>
            <NavLink href={`${base}/import`}>Import</NavLink>
            <p className="px-2.5 pt-3 pb-1 text-xs font-medium tracking-wide text-slate-400 uppercase">Automation and oversight</p>
            <NavLink href={`${base}/workflows`}>Workflows</NavLink>
            <NavLink href={`${base}/audit`}>Audit log</NavLink>
            <NavLink href={`${base}/plan`}>Plan</NavLink>
          </>
        ) : null}
      </nav>
      <div className="min-w-0 flex-1">{children}</div>
    </div>
  );
}
