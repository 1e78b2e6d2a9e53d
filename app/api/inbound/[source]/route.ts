import { handleInbound } from "@/lib/inbound/receive";

export async function POST(req: Request, { params }: { params: Promise<{ source: string }> }): Promise<Response> {
  return handleInbound(req, (await params).source);
}
