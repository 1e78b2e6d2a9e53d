import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { resetEnvCache } from "@/lib/env";

export interface ReceivedMail {
  to: string[];
  subject: string;
  text: string;
  /** The first link in the text. */
  link: string | null;
}

/**
 * A real SMTP server on 127.0.0.1 for one test file; the app sends to it through SMTP_URL.
 * `close()` stops it and unsets SMTP_URL.
 */
export async function startSmtp() {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((mail) => {
          const to = [mail.to]
            .flat()
            .flatMap((a) => a?.value ?? [])
            .map((a) => (a.address ?? "").toLowerCase());
          const text = mail.text ?? "";
          received.push({ to, subject: mail.subject ?? "", text, link: text.match(/https?:\/\/\S+/)?.[0] ?? null });
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.SMTP_URL = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  resetEnvCache();

  /** Waits for a message to `to` whose subject matches. */
  async function waitFor(to: string, subject: RegExp = /./, timeoutMs = 10_000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = received.find((r) => r.to.includes(to.toLowerCase()) && subject.test(r.subject));
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`);
  }

  return {
    received,
    waitFor,
    close: () =>
      new Promise<void>((resolve) => {
        delete process.env.SMTP_URL;
        resetEnvCache();
        server.close(() => resolve());
      }),
  };
}
