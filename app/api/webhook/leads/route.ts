import { handleLead, leadPreflight } from "@/lib/leads/handler";

export const POST = handleLead;
export const OPTIONS = leadPreflight;
