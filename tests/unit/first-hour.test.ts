import { describe, expect, it } from "vitest";
import { formatCost } from "@/lib/api-keys/usage";
import { describeTrigger } from "@/lib/workflows/engine";
import { genericTypeOf, onePerChange } from "@/lib/webhooks/one-per-change";
import { cellProblem } from "@/lib/imports/messages";

describe("figures that do not mislead", () => {
  it("bills to the tenth of a cent", () => {
    expect(formatCost(5)).toBe("$0.015");
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(1000)).toBe("$3.00");
    expect(formatCost(12_345)).toBe("$37.035");
  });

  it("reads 'an opportunity'", () => {
    expect(describeTrigger({ trigger: "field_changed", triggerField: "stage", recordType: "opportunity" })).toBe("When an opportunity's stage changes");
    expect(describeTrigger({ trigger: "created", triggerField: null, recordType: "client" })).toBe("When a client is created");
  });
});

describe("one delivery per change", () => {
  const change = (type: string, version = 2) => ({ type, recordType: "work_order", recordId: "wo_1", data: { version } }) as never;
  const pair = (event: ReturnType<typeof change>, endpointId = "we_a") => ({ event, endpointId });

  it("keeps the most specific event per endpoint and change", () => {
    const events = [change("work_order_created"), change("work_order_completed"), change("record.created")];
    const kept = onePerChange(events.map((e) => pair(e)));
    expect(kept.map((p) => (p.event as { type: string }).type)).toEqual(["work_order_completed"]);
  });

  it("leaves other endpoints, other changes and lone generic subscriptions alone", () => {
    const pairs = [
      pair(change("record.updated"), "we_generic"),
      pair(change("work_order_completed"), "we_all"),
      pair(change("record.updated"), "we_all"),
      pair(change("record.updated", 3), "we_all"),
    ];
    expect(
      onePerChange(pairs).map((p) => `${p.endpointId}:${(p.event as { type: string }).type}:${(p.event as { data: { version: number } }).data.version}`),
    ).toEqual(["we_generic:record.updated:2", "we_all:work_order_completed:2", "we_all:record.updated:3"]);
  });

  it("names the generic type of a lifecycle event", () => {
    expect(genericTypeOf("client_created", null)).toBe("record.created");
    expect(genericTypeOf("work_order_completed", { status: "scheduled" })).toBe("record.updated");
    expect(genericTypeOf("record.updated", {})).toBeNull();
    expect(genericTypeOf("endpoint.failing", null)).toBeNull();
  });
});

describe("import errors for people", () => {
  it("says what is wrong with the cell", () => {
    expect(cellProblem("client", "email", "bob@", "Invalid email address")).toBe("the email address 'bob@' is not valid");
    expect(cellProblem("client", "name", null, "Invalid input: expected string, received null")).toBe("Name is required, and this row has none");
    expect(cellProblem("client", "status", "hot", "Invalid option")).toBe("'hot' is not a valid status: use one of lead, active, inactive");
    expect(cellProblem("invoice", "amount", "ten", "Invalid input")).toBe("Amount 'ten' is not a number");
  });
});
