import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Smarfle", template: "%s · Smarfle" },
  description: "The CRM for service businesses whose data flows in and out without retyping.",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">{children}</body>
    </html>
  );
}
