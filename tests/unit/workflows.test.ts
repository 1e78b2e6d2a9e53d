import { describe, expect, it } from "vitest";
import { conditionHolds, describeAction, renderTemplate, ruleMatches, triggerMatches, type RuleDefinition } from "@/lib/workflows/engine";

const opp = (stage: string, extra: Record<string, unknown> = {}) => ({
  id: "opp_1",
  title: "Office contract",
  stage,
  value: 1200,
  custom_fields: { region: "North" },
  ...extra,
});

describe("workflow conditions", () => {
  const holds = (op: string, field: string, value: unknown, after: Record<string, unknown>, before: Record<string, unknown> | null = null) =>
    conditionHolds({ field, op: op as never, value: value as never }, before, after);

  it("compare numbers as numbers, dates as dates, text case-insensitively for contains", () => {
    expect(holds("greater_than", "value", "999", opp("new"))).toBe(true);
    expect(holds("greater_than", "value", 1200, opp("new"))).toBe(false);
    expect(holds("less_than", "value", "1300.5", opp("new"))).toBe(true);
    expect(holds("less_than", "starts_at", "2026-12-01", { starts_at: "2026-11-30T09:00:00.000Z" })).toBe(true);
    expect(holds("equals", "value", "1200.00", opp("new"))).toBe(true);
    expect(holds("contains", "title", "OFFICE", opp("new"))).toBe(true);
    expect(holds("not_equals", "stage", "new", opp("proposal"))).toBe(true);
    expect(holds("equals", "custom_fields.region", "North", opp("new"))).toBe(true);
  });

  it("treat null, missing and blank as empty, and never as greater or less", () => {
    expect(holds("is_empty", "email", undefined, { email: "  " })).toBe(true);
    expect(holds("is_empty", "email", undefined, { email: null })).toBe(true);
    expect(holds("is_not_empty", "email", undefined, { email: "a@b.c" })).toBe(true);
    expect(holds("greater_than", "value", 0, { value: null })).toBe(false);
    expect(holds("less_than", "value", 0, { value: null })).toBe(false);
    expect(holds("contains", "title", "x", { title: null })).toBe(false);
  });

  it("'changed to' holds only when the value becomes the one named", () => {
    expect(holds("changed_to", "stage", "closed_won", opp("closed_won"), opp("proposal"))).toBe(true);
    expect(holds("changed_to", "stage", "closed_won", opp("closed_won", { value: 5 }), opp("closed_won"))).toBe(false);
    expect(holds("changed_to", "stage", "closed_won", opp("proposal"), opp("new"))).toBe(false);
    expect(holds("changed_to", "stage", "closed_won", opp("closed_won"), null)).toBe(true); // created as closed_won
  });
});

describe("workflow triggers", () => {
  const rule = (trigger: RuleDefinition["trigger"], triggerField: string | null = null): RuleDefinition => ({
    id: "wfr_1",
    name: "r",
    recordType: "opportunity",
    trigger,
    triggerField,
    conditions: [],
    actions: [],
  });

  it("match creates, updates, or a field's change; deletes never", () => {
    expect(triggerMatches(rule("created"), null, opp("new"))).toBe(true);
    expect(triggerMatches(rule("created"), opp("new"), opp("proposal"))).toBe(false);
    expect(triggerMatches(rule("updated"), opp("new"), opp("proposal"))).toBe(true);
    expect(triggerMatches(rule("created_or_updated"), null, opp("new"))).toBe(true);
    expect(triggerMatches(rule("updated"), opp("new"), null)).toBe(false);
    expect(triggerMatches(rule("field_changed", "stage"), opp("new"), opp("proposal"))).toBe(true);
    expect(triggerMatches(rule("field_changed", "stage"), opp("new"), opp("new", { value: 1 }))).toBe(false);
    expect(triggerMatches(rule("field_changed", "stage"), null, opp("new"))).toBe(true); // set on create
    expect(triggerMatches(rule("field_changed", "stage"), null, opp(""))).toBe(false);
  });

  it("a rule fires when its trigger matches and every condition holds", () => {
    const won: RuleDefinition = {
      ...rule("field_changed", "stage"),
      conditions: [
        { field: "stage", op: "changed_to", value: "closed_won" },
        { field: "value", op: "greater_than", value: 1000 },
      ],
    };
    expect(ruleMatches(won, opp("proposal"), opp("closed_won"))).toBe(true);
    expect(ruleMatches(won, opp("proposal"), opp("closed_won", { value: 10 }))).toBe(false);
    expect(ruleMatches(won, opp("proposal"), opp("negotiation"))).toBe(false);
  });
});

describe("workflow texts", () => {
  it("fill {{field}} placeholders from the record, custom fields included", () => {
    expect(renderTemplate("Won: {{title}} ({{ custom_fields.region }}){{missing}}", opp("closed_won"))).toBe("Won: Office contract (North)");
  });

  it("describe actions in words", () => {
    expect(describeAction({ type: "set_field", target: "work_order_id", field: "status", value: "completed" })).toBe(
      'set its work order\'s status to "completed"',
    );
    expect(describeAction({ type: "set_field", target: "self", field: "source", value: "x" })).toBe('set source to "x"');
  });
});
