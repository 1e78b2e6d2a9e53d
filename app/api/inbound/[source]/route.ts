import { handleInbound } from "@/lib/inbound/receive";

export const POST = handleInbound;
