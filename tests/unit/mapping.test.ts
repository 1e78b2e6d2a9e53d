import { describe, expect, it } from "vitest";
import { applyMapping, getPath, mappingByName, parseMapping, parsePath } from "@/lib/mapping/mapping";

describe("field mapping", () => {
  const order = {
    id: 4501,
    customer: { first_name: "Ada", email: "  ADA@Example.COM ", tags: ["vip", "wholesale"] },
    line_items: [{ title: "Deep clean", price: "120.50" }],
    financial_status: "Paid",
    "odd.key": "dotted",
  };

  it("walks dotted and indexed paths", () => {
    expect(parsePath('a.b[2].c["x.y"]')).toEqual(["a", "b", 2, "c", "x.y"]);
    expect(getPath(order, "customer.tags[1]")).toBe("wholesale");
    expect(getPath(order, "line_items[0].price")).toBe("120.50");
    expect(getPath(order, "odd.key")).toBe("dotted");
    expect(getPath(order, "customer.missing.deeper")).toBeUndefined();
    expect(getPath(order, "__proto__.polluted")).toBeUndefined();
  });

  it("applies transforms, value maps, defaults and constants", () => {
    const mapping = parseMapping({
      target: "client",
      external_id: "id",
      fields: {
        name: "customer.first_name",
        email: { from: "customer.email", transform: ["trim", "lower"] },
        status: { from: "financial_status", map: { Paid: "active", Pending: "lead" }, default: "lead" },
        source: { value: "shopify" },
        phone: { from: "customer.phone", default: "unknown" },
        "custom_fields.first_item": "line_items[0].title",
      },
    });
    expect(applyMapping(mapping, order)).toEqual({
      externalId: "4501",
      data: {
        name: "Ada",
        email: "ada@example.com",
        status: "active",
        source: "shopify",
        phone: "unknown",
        external_id: "4501",
        custom_fields: { first_item: "Deep clean" },
      },
    });
  });

  it("converts numbers, dates and booleans, leaving bad values for validation to name", () => {
    const m = parseMapping({
      target: "invoice",
      fields: {
        number: "n",
        amount: { from: "a", transform: "number" },
        due_date: { from: "d", transform: "date" },
        "custom_fields.paid": { from: "p", transform: "boolean" },
      },
    });
    expect(applyMapping(m, { n: "1", a: "$1,234.50", d: "2026-12-31", p: "Yes" }).data).toMatchObject({
      amount: 1234.5,
      due_date: "2026-12-31T00:00:00.000Z",
      custom_fields: { paid: true },
    });
    expect(applyMapping(m, { n: "1", a: "twelve", d: 46022, p: "no" }).data).toMatchObject({
      amount: "twelve",
      due_date: "2025-12-31T00:00:00.000Z",
      custom_fields: { paid: false },
    });
  });

  it("refuses mappings onto fields the type does not have", () => {
    expect(() => parseMapping({ target: "client", fields: { colour: "c" } })).toThrow();
    expect(() => parseMapping({ target: "nope", fields: {} })).toThrow();
    expect(() => parseMapping({ target: "client", fields: { name: { transform: "lower" } } })).toThrow();
  });

  it("matches columns to fields by name without a mapping", () => {
    expect(mappingByName("client", ["Name", "E-mail", "Email", "Phone", "ID", "Favourite"])).toEqual({
      target: "client",
      fields: { name: "Name", email: "E-mail", phone: "Phone" },
      external_id: "ID",
    });
  });

  it("recognises the header variants people use", () => {
    expect(mappingByName("client", ["Full Name", "E-mail", "Phone number", "Company Name"]).fields).toEqual({
      name: "Full Name",
      email: "E-mail",
      phone: "Phone number",
      company: "Company Name",
    });
    expect(mappingByName("client", [" full_name ", "EMAIL ADDRESS", "Mobile"]).fields).toEqual({
      name: " full_name ",
      email: "EMAIL ADDRESS",
      phone: "Mobile",
    });
  });

  it("joins first and last name columns into the name", () => {
    const m = mappingByName("client", ["First Name", "Last Name", "Cell"]);
    expect(m.fields).toEqual({ name: { join: ["First Name", "Last Name"] }, phone: "Cell" });
    expect(applyMapping(parseMapping(m), { "First Name": " Ada ", "Last Name": "Lovelace", Cell: "1" }).data).toEqual({ name: "Ada Lovelace", phone: "1" });
    expect(applyMapping(parseMapping(m), { "First Name": "Ada", "Last Name": "" }).data.name).toBe("Ada");
    expect(applyMapping(parseMapping(m), { "First Name": "", "Last Name": "" }).data.name).toBeNull();
  });
});
