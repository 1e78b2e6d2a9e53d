import { afterEach, describe, expect, it } from "vitest";
import { NextRequest } from "next/server";
import { proxy } from "@/proxy";
import { resetEnvCache } from "@/lib/env";

afterEach(() => {
  delete process.env.APP_URL;
  resetEnvCache();
});

const page = () => proxy(new NextRequest("http://127.0.0.1/sign-in"));

describe("page security headers", () => {
  it("sets a CSP with a fresh nonce that forbids framing and inline script", () => {
    const a = page().headers.get("content-security-policy")!;
    const b = page().headers.get("content-security-policy")!;
    expect(a).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{24}' 'strict-dynamic'(;|$)/);
    expect(a).toContain("frame-ancestors 'none'");
    expect(a).not.toMatch(/script-src[^;]*unsafe/);
    expect(a).not.toBe(b);
  });

  it("adds Strict-Transport-Security only when APP_URL is https", () => {
    expect(page().headers.get("strict-transport-security")).toBeNull();
    process.env.APP_URL = "https://crm.example.com";
    resetEnvCache();
    expect(page().headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
  });
});
