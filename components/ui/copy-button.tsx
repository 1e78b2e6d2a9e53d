"use client";

import { useState } from "react";
import { buttonClass } from "./button";

export function CopyButton({ text, label = "Copy", ariaLabel }: { text: string; label?: string; ariaLabel?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      aria-label={ariaLabel}
      onClick={async () => {
        await navigator.clipboard?.writeText(text).catch(() => {});
        setCopied(true);
        setTimeout(() => setCopied(false), 2000);
      }}
      className={buttonClass("secondary", "", "sm")}
    >
      {copied ? "Copied" : label}
    </button>
  );
}
