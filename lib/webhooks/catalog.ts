import { ALL_EVENT_TYPES, WORKFLOW_EVENT, registry, type RecordType } from "@/lib/records/registry";
import type { RecordEventName } from "@/lib/events/names";
import { TYPES_WITH_CLIENT, type ClientSummary, type WorkOrderSummary } from "@/lib/events/summaries";
import { genericTypeOf } from "./one-per-change";
import { OPERATIONAL_EVENTS, OPERATIONAL_EVENT_INFO, isOperationalEvent, type OperationalEvent } from "./operational-events";

/** The event catalog: every event an endpoint can subscribe to, with a sample payload. */

const SAMPLE_RECORDS: Record<RecordType, Record<string, unknown>> = {
  client: {
    name: "Jane Cooper",
    email: "jane@example.com",
    phone: "+1 555 0100",
    company: "Cooper Dental",
    address: "12 Harbour St",
    source: "website form",
    status: "lead",
  },
  opportunity: { title: "Weekly office cleaning", client_id: "cli_00VblSAMPLE0000000000001", value: 1800, currency: "USD", stage: "closed_won" },
  work_order: { title: "Deep clean, suite 200", client_id: "cli_00VblSAMPLE0000000000001", scheduled_at: "2026-12-01T09:00:00.000Z", status: "completed" },
  invoice: {
    number: "INV-1042",
    client_id: "cli_00VblSAMPLE0000000000001",
    work_order_id: "wo_00VblSAMPLE0000000000003",
    amount: 240,
    currency: "USD",
    status: "paid",
    due_date: "2026-12-15",
  },
  booking: {
    service: "Standard home clean (2h)",
    client_id: "cli_00VblSAMPLE0000000000001",
    starts_at: "2026-12-02T14:00:00.000Z",
    ends_at: "2026-12-02T16:00:00.000Z",
    status: "confirmed",
  },
};

export const EVENT_DESCRIPTIONS: Record<RecordEventName, { description: string; recordType: RecordType | null }> = {
  client_created: { description: "A client was created — including every lead captured from a form.", recordType: "client" },
  client_updated: { description: "A client changed; `previous` holds the changed fields' old values.", recordType: "client" },
  work_order_created: { description: "A work order was created.", recordType: "work_order" },
  work_order_completed: {
    description: "A work order's status became completed; `data.client` has the client's name, email, phone and address.",
    recordType: "work_order",
  },
  invoice_sent: { description: "An invoice's status became sent.", recordType: "invoice" },
  invoice_paid: { description: "An invoice's status became paid.", recordType: "invoice" },
  booking_received: { description: "A booking was created.", recordType: "booking" },
  "record.created": {
    description:
      'Any record of any type was created. An endpoint that also subscribes to the record\'s own event (or to all events) gets that one instead, with `generic_type: "record.created"`: one delivery per change.',
    recordType: null,
  },
  "record.updated": {
    description:
      'Any record of any type changed. An endpoint that also subscribes to the record\'s own event (or to all events) gets that one instead, with `generic_type: "record.updated"`: one delivery per change.',
    recordType: null,
  },
  "record.deleted": { description: "Any record was deleted; `data` is its last state.", recordType: null },
  [WORKFLOW_EVENT]: {
    description: "A workflow rule fired: sent only to the endpoint the rule names. `data.rule` is the rule, `data.record` the record that triggered it.",
    recordType: "opportunity",
  },
};

const RECORD_TYPE_INDEX: Record<RecordType, number> = { client: 1, opportunity: 2, work_order: 3, invoice: 4, booking: 5 };
const sampleId = (type: RecordType) => `${registry[type].idPrefix}_00VblSAMPLE000000000000${RECORD_TYPE_INDEX[type]}`;

/** The summaries events about a client's records embed (lib/events/summaries.ts). */
const SAMPLE_CLIENT: ClientSummary = { id: sampleId("client"), name: "Jane Cooper", email: "jane@example.com", phone: "+1 555 0100", address: "12 Harbour St" };
const SAMPLE_WORK_ORDER: WorkOrderSummary = { id: sampleId("work_order"), title: "Deep clean, suite 200" };

export function sampleRecord(type: RecordType): Record<string, unknown> {
  const record: Record<string, unknown> = {
    id: sampleId(type),
    object: type,
    ...SAMPLE_RECORDS[type],
    external_id: null,
    custom_fields: {},
    version: 3,
    created_at: "2026-11-20T10:00:00.000Z",
    updated_at: "2026-11-23T08:30:00.000Z",
  };
  if ((TYPES_WITH_CLIENT as readonly string[]).includes(type)) record.client = SAMPLE_CLIENT;
  if (type === "invoice") record.work_order = SAMPLE_WORK_ORDER;
  return record;
}

/** The `data` and `previous` a sample of this event carries. */
export function sampleEvent(type: RecordEventName): { recordType: RecordType; data: Record<string, unknown>; previous: Record<string, unknown> | null } {
  const recordType = EVENT_DESCRIPTIONS[type]?.recordType ?? "client";
  const data = sampleRecord(recordType);
  let previous: Record<string, unknown> | null = null;
  if (type === "client_updated" || type === "record.updated") previous = { phone: "+1 555 0199" };
  if (type === "work_order_completed") previous = { status: "in_progress" };
  if (type === "invoice_sent") previous = { status: "draft" };
  if (type === "invoice_paid") previous = { status: "sent" };
  if (type === "invoice_sent") data.status = "sent";
  if (type === WORKFLOW_EVENT) {
    const rule = { id: "wfr_00VblSAMPLE0000000000000", name: "Won deal activates client", trigger: "When an opportunity's stage changes" };
    return { recordType, data: { object: "workflow_trigger", rule, record: data }, previous: null };
  }
  return { recordType, data, previous };
}

/** A sample `data` for each operational event. */
const OPERATIONAL_SAMPLES: Record<OperationalEvent, Record<string, unknown>> = {
  "endpoint.failing": {
    id: "we_00VblSAMPLE0000000000000",
    url: "https://example.com/hooks/smarfle",
    consecutive_failures: 10,
    retry_at: "2026-11-23T08:31:00.000Z",
    last_error: "timed out after 15 s",
  },
  "endpoint.recovered": { id: "we_00VblSAMPLE0000000000000", url: "https://example.com/hooks/smarfle" },
  "endpoint.disabled": {
    id: "we_00VblSAMPLE0000000000000",
    url: "https://example.com/hooks/smarfle",
    reason: "every delivery failed for 5 days",
    failing_since: "2026-11-18T08:30:00.000Z",
    disabled_at: "2026-11-23T08:30:00.000Z",
  },
  "delivery.exhausted": {
    id: "dlv_00VblSAMPLE000000000000",
    event_id: "evt_00VblSAMPLE0000000000001",
    event_type: "invoice_paid",
    endpoint_id: "we_00VblSAMPLE0000000000000",
    url: "https://example.com/hooks/smarfle",
    attempts: 6,
    last_error: "receiver answered 500",
  },
  "api_key.expiring": { id: "key_00VblSAMPLE000000000000", name: "Zapier", prefix: "sk_live_ab12…", expires_at: "2026-11-30T08:30:00.000Z" },
  "connector.paused": { id: "con_00VblSAMPLE000000000000", name: "Old CRM contacts", reason: "5 runs failed in a row; last error: the source answered 503" },
  "import.completed": { id: "imp_00VblSAMPLE000000000000", file_name: "clients.csv", record_type: "client", total: 120, created: 110, updated: 8, failed: 2 },
};

/** Every event in the catalog: record events, then the operational group (the feed, test events). */
export const CATALOG_EVENT_TYPES = [...ALL_EVENT_TYPES, ...OPERATIONAL_EVENTS] as const;
export type CatalogEventType = (typeof CATALOG_EVENT_TYPES)[number];

/** The stored record type and `data` of a test event of any kind. */
export function sampleForTest(type: CatalogEventType): { recordType: string; data: Record<string, unknown>; previous: Record<string, unknown> | null } {
  if (isOperationalEvent(type))
    return {
      recordType: OPERATIONAL_EVENT_INFO[type].object,
      data: { object: OPERATIONAL_EVENT_INFO[type].object, ...OPERATIONAL_SAMPLES[type] },
      previous: null,
    };
  return sampleEvent(type);
}

export function eventCatalog() {
  const records = ALL_EVENT_TYPES.map((type) => {
    const s = sampleEvent(type);
    const sample: Record<string, unknown> = {
      id: "evt_00VblSAMPLE0000000000000",
      type,
      created_at: "2026-11-23T08:30:00.000Z",
      org_id: "org_00VblSAMPLE0000000000000",
      data: s.data,
    };
    if (s.previous) sample.previous = s.previous;
    const generic = genericTypeOf(type, s.previous);
    if (generic) sample.generic_type = generic;
    return { type, group: "records" as const, description: EVENT_DESCRIPTIONS[type]!.description, sample };
  });
  const operational = OPERATIONAL_EVENTS.map((type) => ({
    type,
    group: "operational" as const,
    description: OPERATIONAL_EVENT_INFO[type].description,
    sample: {
      id: "evt_00VblSAMPLE0000000000000",
      type,
      created_at: "2026-11-23T08:30:00.000Z",
      org_id: "org_00VblSAMPLE0000000000000",
      data: sampleForTest(type).data,
    },
  }));
  return [...records, ...operational];
}
