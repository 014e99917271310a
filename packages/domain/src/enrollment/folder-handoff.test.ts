import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { eq } from "drizzle-orm";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { seedEnrollment, seedOrg } from "../agent/__fixtures__/org.js";
import type { InboxProblem, PendingSignature } from "@ksef-certs/ksef/handoff";
import { JAN_PESEL, OTHER_PESEL, makeJanAndEwa, newChallenge, signedFor, unsignedFor, NIP, type Person } from "@ksef-certs/ksef/testing";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import type { Db } from "../store/db.js";
import { workstations } from "../store/schema.js";
import { createFolderHandoff } from "./folder-handoff.js";

let jan: Person;
let other: Person;
let root: string;
beforeAll(async () => {
  ({ jan, ewa: other } = await makeJanAndEwa());
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "folder-handoff-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** kasa-1 with real folders, an enrollment (operator Jan, or the company), a hand-off and what it reports. */
async function setup(db: Db, operator?: { name: string; pesel: string }) {
  const org = await seedOrg(db);
  const outboxDir = join(root, "out");
  const inboxDir = join(root, "in");
  mkdirSync(outboxDir);
  mkdirSync(inboxDir);
  await db.update(workstations).set({ outboxDir, inboxDir }).where(eq(workstations.id, org.workstationId));
  const enrollmentId = await seedEnrollment(db, org, operator);
  const problems: InboxProblem[] = [];
  let onProblem: ((p: InboxProblem) => void) | undefined;
  const handoff = createFolderHandoff({
    db,
    stabilityMs: 100,
    pollIntervalMs: 20,
    rescanIntervalMs: 60_000,
    onProblem: (p) => {
      problems.push(p);
      onProblem?.(p);
    },
  });
  const p: PendingSignature = {
    id: enrollmentId,
    challenge: newChallenge(),
    contextIdentifier: { type: "Nip", value: NIP },
    expiresAt: new Date(Date.now() + 600_000),
  };
  const req = {
    enrollmentId,
    workstationId: org.workstationId,
    challenge: p.challenge,
    xml: unsignedFor(p),
    expiresAt: p.expiresAt,
    contextIdentifier: { type: "Nip" as const, value: NIP },
  };
  const nextProblem = (): Promise<InboxProblem> => new Promise((r) => (onProblem = r));
  return { handoff, p, req, inboxDir, problems, nextProblem };
}

describeEachDb("folder hand-off: who signs", (ctx) => {
  it("an operator's enrollment: a file signed by another person goes to failed/ with the reason, the wait goes on, Jan's file is taken", async () => {
    const { db } = ctx();
    const s = await setup(db, { name: "Jan Kowalski", pesel: JAN_PESEL });
    const { file } = await s.handoff.publish(s.req);
    expect(basename(file)).toMatch(/^auth-5265877635-Jan-Kowalski-[A-F0-9]{10}-[A-F0-9]{2}\.xml$/);
    const controller = new AbortController();
    let settled = false;
    const waiting = s.handoff.signed({ ...s.req, file, signal: controller.signal }).finally(() => (settled = true));
    waiting.catch(() => undefined);

    const refused = s.nextProblem();
    writeFileSync(join(s.inboxDir, "auth-signed-by-ewa.xml"), await signedFor(other, s.p));
    const problem = await refused;
    expect(problem.kind).toBe("wrong-signer");
    expect(problem.en).toContain(`signed by PESEL ${OTHER_PESEL}, but this request is for Jan Kowalski (PESEL ${JAN_PESEL})`);
    expect(problem.movedTo).toBe(join(s.inboxDir, "failed", "auth-signed-by-ewa.xml"));
    const reason = readFileSync(`${problem.movedTo ?? ""}.reason.txt`, "utf8");
    expect(reason).toContain(`Plik podpisał(a) PESEL ${OTHER_PESEL}, a ten wniosek dotyczy operatora Jan Kowalski (PESEL ${JAN_PESEL})`);
    expect(reason).toContain(`signed by PESEL ${OTHER_PESEL}`);
    expect(settled).toBe(false);

    const janSigned = await signedFor(jan, s.p);
    writeFileSync(join(s.inboxDir, "auth-signed-by-jan.xml"), janSigned);
    expect(Buffer.from(await waiting).equals(Buffer.from(janSigned))).toBe(true);
    expect(existsSync(join(s.inboxDir, "processed", "auth-signed-by-jan.xml"))).toBe(true);
    expect(s.problems.map((p) => p.kind)).toEqual(["wrong-signer"]);
  });

  it("a company enrollment: any authorised person's signature is taken", async () => {
    const { db } = ctx();
    const s = await setup(db);
    const { file } = await s.handoff.publish(s.req);
    expect(basename(file)).toMatch(/^auth-5265877635-[A-F0-9]{10}-[A-F0-9]{2}\.xml$/);
    const waiting = s.handoff.signed({ ...s.req, file, signal: new AbortController().signal });
    const signed = await signedFor(other, s.p);
    writeFileSync(join(s.inboxDir, "signed.xml"), signed);
    expect(Buffer.from(await waiting).equals(Buffer.from(signed))).toBe(true);
    expect(s.problems).toEqual([]);
  });
});
