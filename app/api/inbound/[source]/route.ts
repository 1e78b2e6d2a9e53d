import { handleInbound, handleInboundHandshake } from "@/lib/inbound/receive";

export async function POST(req: Request, { params }: { params: Promise<{ source: string }> }): Promise<Response> {
  return handleInbound(req, (await params).source);
}

export async function GET(req: Request, { params }: { params: Promise<{ source: string }> }): Promise<Response> {
  return handleInboundHandshake(req, (await params).source);
}
