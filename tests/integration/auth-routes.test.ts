import { describe, expect, it } from "vitest";
import { POST } from "@/app/api/auth/[...nextauth]/route";
import { GET as benchStatic } from "@/app/api/bench/static/route";
import { AUTH_BODY_LIMIT } from "@/lib/auth/body-cap";
import { fromRandomIp } from "../helpers/api";

describe("auth routes", () => {
  it("refuse a body past the cap with 413 in the documented envelope", async () => {
    const body = `email=a%40b.test&password=${"x".repeat(AUTH_BODY_LIMIT)}`;
    const res = await POST(
      new Request("http://127.0.0.1/api/auth/callback/credentials", {
        method: "POST",
        body,
        headers: { "content-type": "application/x-www-form-urlencoded", ...fromRandomIp() },
      }),
    );
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large", request_id: expect.stringMatching(/^req_/) } });
  });

  it("refuse a streamed body past the cap without a Content-Length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(4096));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Bounded: stops by itself well past the cap.
        if (sent++ > 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await POST(
      new Request("http://127.0.0.1/api/auth/callback/credentials", {
        method: "POST",
        body: stream,
        duplex: "half",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      } as RequestInit),
    );
    expect(res.status).toBe(413);
  });
});

describe("benchmark baselines", () => {
  it("answer 404 unless SMARFLE_BENCH=1", async () => {
    const res = benchStatic();
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
