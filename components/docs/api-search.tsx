"use client";

import { useState } from "react";
import { Input } from "@/components/ui/form";

/** Filters the reference's operations as you type: by path, method, summary or description. */
export function ApiSearch() {
  const [q, setQ] = useState("");
  const filter = (value: string) => {
    setQ(value);
    const needle = value.trim().toLowerCase();
    for (const el of document.querySelectorAll<HTMLElement>("[data-search]")) el.hidden = Boolean(needle) && !el.dataset.search!.includes(needle);
  };
  return (
    <Input
      type="search"
      aria-label="Search the API reference"
      placeholder="Search: webhooks, import, redeliver…"
      value={q}
      onChange={(e) => filter(e.target.value)}
      className="mt-4 max-w-md"
    />
  );
}
