import { handleInbound, handleInboundHandshake } from "@/lib/inbound/receive";

export const POST = handleInbound;
export const GET = handleInboundHandshake;
