import { Card } from "@/components/ui/layout";

export interface LeadCaptureView {
  id: string;
  channel: string;
  created: boolean;
  message: string | null;
  fields: Record<string, unknown>;
  createdAt: Date;
}

/** Every lead capture of a client, newest first: when, which channel, the message and the rest. */
export function LeadHistory({ captures }: { captures: LeadCaptureView[] }) {
  if (captures.length === 0) return null;
  return (
    <Card title={`Lead history (${captures.length})`} className="mt-4">
      <ol className="space-y-3" data-testid="lead-history">
        {captures.map((c) => {
          const extra = Object.entries(c.fields).filter(([, v]) => v !== null && v !== "");
          return (
            <li key={c.id} className="border-l-2 border-slate-200 pl-3">
              <p className="text-xs text-slate-500">
                {c.createdAt.toISOString().replace("T", " ").slice(0, 16)} UTC · {c.channel} · {c.created ? "first contact" : "returned"}
              </p>
              {c.message ? <p className="whitespace-pre-wrap break-words text-sm">{c.message}</p> : null}
              {extra.length ? (
                <p className="break-words text-xs text-slate-500">
                  {extra
                    .slice(0, 20)
                    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
                    .join(" · ")}
                </p>
              ) : null}
            </li>
          );
        })}
      </ol>
    </Card>
  );
}
