/** Notification links are stored relative to the organization (`records/clients/cli_…`). */
export function orgLink(orgSlug: string, link: string): string {
  return `/${orgSlug}/${link.replace(/^\/+/, "")}`;
}
