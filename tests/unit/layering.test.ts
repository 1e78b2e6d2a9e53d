import { describe, expect, it } from "vitest";
import path from "node:path";
import { ESLint } from "eslint";

/**
 * The layering is kept by the lint configuration, not by discipline: each case is a deliberate
 * violation that `npm run lint` must refuse, beside an allowed import that it must accept.
 */
const eslint = new ESLint({ cwd: path.resolve(__dirname, "../..") });

async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === "@typescript-eslint/no-restricted-imports").map((m) => m.message);
}

describe("layering lint rules", () => {
  it("lib/ may not import routes or UI", async () => {
    expect(await layeringErrors("lib/example/service.ts", `import { Field } from "@/components/ui/field";\nexport const x = Field;\n`)).toHaveLength(1);
    expect(await layeringErrors("lib/example/service.ts", `import { GET } from "@/app/api/health/route";\nexport const x = GET;\n`)).toHaveLength(1);
    expect(await layeringErrors("lib/example/service.ts", `import { env } from "@/lib/env";\nexport const x = env;\n`)).toHaveLength(0);
  }, 60_000);

  it("db/ may not import a capability from lib/ (configuration excepted)", async () => {
    expect(await layeringErrors("db/example.ts", `import { writeRecords } from "@/lib/records/pipeline";\nexport const x = writeRecords;\n`)).toHaveLength(1);
    expect(await layeringErrors("db/example.ts", `import { env } from "@/lib/env";\nexport const x = env;\n`)).toHaveLength(0);
  }, 60_000);

  it("components/ may not query the database, but may import server actions and types", async () => {
    expect(await layeringErrors("components/example.tsx", `import { getDb } from "@/db/client";\nexport const x = getDb;\n`)).toHaveLength(1);
    expect(await layeringErrors("components/example.tsx", `import { eq } from "drizzle-orm";\nexport const x = eq;\n`)).toHaveLength(1);
    expect(await layeringErrors("components/example.tsx", `import type { Db } from "@/db/client";\nexport type X = Db;\n`)).toHaveLength(0);
    expect(await layeringErrors("components/example.tsx", `import { GET } from "@/app/api/health/route";\nexport const x = GET;\n`)).toHaveLength(1);
    expect(
      await layeringErrors("components/example.tsx", `import { createKeyAction } from "@/app/(app)/[org]/actions";\nexport const x = createKeyAction;\n`),
    ).toHaveLength(0);
  }, 60_000);
});
