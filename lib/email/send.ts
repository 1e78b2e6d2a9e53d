import "server-only";
import nodemailer, { type Transporter } from "nodemailer";
import { env } from "@/lib/env";
import { logError, logEvent } from "@/lib/log";

/**
 * Outgoing mail. With SMTP_URL, nodemailer sends it. Without it, in development and tests each
 * message is printed to the server log and kept in memory for the development mailbox page
 * (/dev/mailbox); in production nothing can be sent, and the features that need mail say so
 * (emailUnavailableReason).
 */

export interface Email {
  to: string;
  subject: string;
  /** Plain text: every message has it, and most need nothing else. */
  text: string;
}

export interface StoredEmail extends Email {
  from: string;
  at: string;
}

/** The development mailbox keeps this many messages, newest first. */
const MAILBOX_SIZE = 50;
const holder = globalThis as unknown as { __smarfleMailbox?: StoredEmail[]; __smarfleMailer?: { url: string; transport: Transporter } };

export function emailFrom(): string {
  const e = env();
  return e.EMAIL_FROM ?? `Smarfle <no-reply@${e.APP_URL ? new URL(e.APP_URL).hostname : "localhost"}>`;
}

/** The base of links in messages. Never the request's Host header, which a client chooses. */
export function appUrl(): string {
  const e = env();
  return (e.APP_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, "");
}

/** Null when mail can be sent; otherwise why not, in words a person can act on. */
export function emailUnavailableReason(): string | null {
  const e = env();
  if (e.SMTP_URL || e.NODE_ENV !== "production") return null;
  return "Email is not configured on this server (set SMTP_URL): verification, invitations, password resets and lock-out notices cannot be sent.";
}

function transport(url: string): Transporter {
  if (holder.__smarfleMailer?.url !== url) {
    holder.__smarfleMailer?.transport.close();
    holder.__smarfleMailer = { url, transport: nodemailer.createTransport(url, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 }) };
  }
  return holder.__smarfleMailer.transport;
}

export function developmentMailbox(): readonly StoredEmail[] {
  return holder.__smarfleMailbox ?? [];
}

/** Sends one message. Throws when it cannot be handed over (callers decide whether that matters). */
export async function sendEmail(message: Email): Promise<void> {
  const e = env();
  const from = emailFrom();
  if (e.SMTP_URL) {
    await transport(e.SMTP_URL).sendMail({ from, to: message.to, subject: message.subject, text: message.text });
    logEvent("email", { sent: message.subject, to: message.to });
    return;
  }
  const reason = emailUnavailableReason();
  if (reason) throw new Error(reason);
  const box = (holder.__smarfleMailbox ??= []);
  box.unshift({ ...message, from, at: new Date().toISOString() });
  box.length = Math.min(box.length, MAILBOX_SIZE);
  console.info(`[email] (not sent: no SMTP_URL) to=${message.to} subject=${JSON.stringify(message.subject)}\n${message.text}\n[email] end`);
}

/** For notices whose failure must not fail the request that caused them (a lock-out notice). */
export function sendEmailInBackground(message: Email, context: string): void {
  sendEmail(message).catch((err) => logError(`email ${context}`, err, { to: message.to }));
}
