import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { KsefCertsError } from "../errors.js";
import { signXml } from "../xades/sign.js";
import { deeplyNestedXml, manySiblingsXml } from "../xml/testing.js";
import type { PendingSignature } from "./classify.js";
import { awaitSignature } from "./session.js";
import { watchInbox, type InboxProblem, type InboxWatcher, type WatchInboxOptions } from "./watch.js";
import { makePerson, pendingFor, signedFor, unsignedFor, type Person } from "../testing/signer.js";

// Short intervals so the suite stays quick; the rules are the same as with the 400 ms / 30 s defaults.
const TIMING = { stabilityMs: 150, pollIntervalMs: 30, rescanIntervalMs: 60_000 } as const;

let person: Person;
let root: string;
let inbox: string;
let watcher: InboxWatcher | undefined;

beforeAll(async () => {
  person = await makePerson();
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "handoff-watch-"));
  inbox = join(root, "inbox");
  mkdirSync(inbox);
});
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Seen {
  signed: { pending: PendingSignature; bytes: Uint8Array; name: string }[];
  processed: string[];
  problems: InboxProblem[];
}

async function start(pending: PendingSignature[], extra: Partial<WatchInboxOptions> = {}): Promise<Seen> {
  const seen: Seen = { signed: [], processed: [], problems: [] };
  watcher = await watchInbox(inbox, {
    pending: () => pending,
    onSigned: (p, bytes, _verified, file) => {
      seen.signed.push({ pending: p, bytes, name: file.name });
    },
    onProcessed: (_p, _file, movedTo) => {
      seen.processed.push(movedTo);
    },
    onProblem: (p) => {
      seen.problems.push(p);
    },
    ...TIMING,
    ...extra,
  });
  return seen;
}

const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const withoutSubfolders = (names: string[]): string[] => names.filter((n) => n !== "processed" && n !== "failed");
const inboxFiles = (): string[] => withoutSubfolders(files(inbox));

describe("watchInbox", () => {
  test("a signed file written slowly in chunks is handled once, with its full bytes", async () => {
    const p = pendingFor("slow");
    const bytes = await signedFor(person, p);
    const seen = await start([p]);
    const handle = await open(join(inbox, "AuthTokenRequest.xml"), "w");
    const step = Math.ceil(bytes.byteLength / 10);
    for (let i = 0; i < bytes.byteLength; i += step) {
      await handle.write(bytes.subarray(i, i + step));
      await handle.sync();
      await sleep(60); // under the stability threshold: each pause looks like a finished write to a naive watcher
    }
    await handle.close();
    await until("the signed file", () => seen.processed.length === 1);
    await sleep(400);
    expect(seen.signed).toHaveLength(1);
    expect(Buffer.from(seen.signed[0]?.bytes ?? []).equals(bytes)).toBe(true);
    expect(seen.signed[0]?.pending).toBe(p);
    expect(seen.problems).toEqual([]);
    expect(files(join(inbox, "processed"))).toEqual(["AuthTokenRequest.xml"]);
    expect(readFileSync(join(inbox, "processed", "AuthTokenRequest.xml")).equals(bytes)).toBe(true);
    expect(inboxFiles()).toEqual([]);
  });

  test("a writer pausing longer than the stability threshold mid-file: the half file is not set aside, the whole one is handled", async () => {
    const p = pendingFor("long-pause");
    const bytes = await signedFor(person, p);
    const seen = await start([p], { incompleteGraceMs: 5_000 });
    const half = Math.floor(bytes.byteLength / 2);
    writeFileSync(join(inbox, "pobrany.xml"), bytes.subarray(0, half));
    await sleep(800); // far over stabilityMs (150): the half file is read, and is not XML yet
    expect(files(join(inbox, "failed"))).toEqual([]);
    writeFileSync(join(inbox, "pobrany.xml"), bytes);
    await until("the signed file", () => seen.processed.length === 1);
    expect(seen.signed).toHaveLength(1);
    expect(Buffer.from(seen.signed[0]?.bytes ?? []).equals(bytes)).toBe(true);
    expect(seen.problems).toEqual([]);
  });

  test("a broken file is set aside once it has stayed broken for the grace period", async () => {
    const seen = await start([pendingFor("broken")], { incompleteGraceMs: 400 });
    writeFileSync(join(inbox, "uciety.xml"), "<AuthTokenRequest><Challenge>");
    await until("the broken file set aside", () => seen.problems.length === 1);
    expect(seen.problems[0]).toMatchObject({ kind: "rejected" });
    expect(files(join(inbox, "failed"))).toContain("uciety.xml");
  });

  test("XML too deep or too wide goes to failed/ at once with the limit in Polish and English, and is never looked at again", async () => {
    const seen = await start([pendingFor("hostile")]);
    writeFileSync(join(inbox, "gleboki.xml"), deeplyNestedXml().bytes);
    writeFileSync(join(inbox, "szeroki.xml"), manySiblingsXml().bytes);
    await until("both set aside", () => seen.problems.length === 2);
    expect(seen.problems.map((p) => [p.kind, p.movedTo]).sort()).toEqual([
      ["too-complex", join(inbox, "failed", "gleboki.xml")],
      ["too-complex", join(inbox, "failed", "szeroki.xml")],
    ]);
    const deep = readFileSync(join(inbox, "failed", "gleboki.xml.reason.txt"), "utf8");
    expect(deep).toContain("więcej niż 64 poziomach");
    expect(deep).toContain("nests elements more than 64 levels deep");
    expect(readFileSync(join(inbox, "failed", "szeroki.xml.reason.txt"), "utf8")).toContain("więcej niż 10000 elementów");
    await watcher?.rescan();
    await watcher?.rescan();
    expect(seen.problems).toHaveLength(2);
    expect(seen.signed).toEqual([]);
    expect(inboxFiles()).toEqual([]);
  });

  test("a file the classifier fails on goes to failed/ once instead of being tried at every rescan", async () => {
    const broken = {
      ...pendingFor("bug"),
      get challenge(): string {
        throw new Error("a bug in the pending list");
      },
    };
    const seen = await start([broken]);
    writeFileSync(join(inbox, "auth.xml"), unsignedFor(pendingFor("bug")));
    await until("the file set aside", () => seen.problems.length === 1);
    expect(seen.problems[0]).toMatchObject({ kind: "check-failed", movedTo: join(inbox, "failed", "auth.xml") });
    expect(readFileSync(join(inbox, "failed", "auth.xml.reason.txt"), "utf8")).toContain("could not be checked");
    await watcher?.rescan();
    expect(seen.problems).toHaveLength(1);
  });

  test("a rescan that finds a file still being written waits until it is complete", async () => {
    const p = pendingFor("rescan-mid-write");
    const bytes = await signedFor(person, p);
    const seen = await start([p]);
    const handle = await open(join(inbox, "wolno.xml"), "w");
    const step = Math.ceil(bytes.byteLength / 8);
    const rescans: Promise<void>[] = [];
    for (let i = 0; i < bytes.byteLength; i += step) {
      await handle.write(bytes.subarray(i, i + step));
      rescans.push(watcher?.rescan() ?? Promise.resolve()); // no write-finish check on this path: only our own checks
      await sleep(60);
    }
    await handle.close();
    await Promise.all(rescans);
    await until("the signed file", () => seen.processed.length === 1);
    expect(seen.problems).toEqual([]);
    expect(seen.signed).toHaveLength(1);
    expect(Buffer.from(seen.signed[0]?.bytes ?? []).equals(bytes)).toBe(true);
  });

  test("a file written under a browser's temp name and renamed is handled once, under its final name", async () => {
    const p = pendingFor("rename");
    const bytes = await signedFor(person, p);
    const seen = await start([p]);
    const temp = join(inbox, "AuthTokenRequest.xml.crdownload");
    writeFileSync(temp, bytes.subarray(0, 100));
    await sleep(300); // longer than the stability threshold: the temp name alone must keep it ignored
    writeFileSync(temp, bytes);
    renameSync(temp, join(inbox, "AuthTokenRequest.xml"));
    await until("the signed file", () => seen.processed.length === 1);
    await sleep(300);
    expect(seen.signed.map((s) => s.name)).toEqual(["AuthTokenRequest.xml"]);
    expect(seen.problems).toEqual([]);
  });

  test("the same signed file saved twice is passed on once; the copy goes to processed/ as a reported duplicate", async () => {
    const p = pendingFor("twice");
    const bytes = await signedFor(person, p);
    const seen = await start([p]);
    writeFileSync(join(inbox, "podpisany.xml"), bytes);
    await until("the first file", () => seen.processed.length === 1);
    writeFileSync(join(inbox, "podpisany (1).xml"), bytes);
    await until("the duplicate", () => seen.problems.length === 1);
    expect(seen.signed).toHaveLength(1);
    expect(seen.problems[0]).toMatchObject({ kind: "duplicate", movedTo: join(inbox, "processed", "podpisany (1).xml") });
    expect(seen.problems[0]?.pl).toContain("podpisany.xml");
    expect(files(join(inbox, "processed"))).toEqual(["podpisany (1).xml", "podpisany (1).xml.reason.txt", "podpisany.xml"]);
    expect(inboxFiles()).toEqual([]);
  });

  test("classifies by content whatever the name: .xml.xades with spaces, .XAdES, no extension", async () => {
    const ps = [pendingFor("a"), pendingFor("b"), pendingFor("c")];
    const names = ["podpisany (1).xml.xades", "Podpis.XAdES", "bez-rozszerzenia"];
    const seen = await start(ps);
    for (const [i, name] of names.entries()) writeFileSync(join(inbox, name), await signedFor(person, ps[i] as PendingSignature));
    await until("three signed files", () => seen.processed.length === 3);
    expect(seen.signed.map((s) => [s.name, s.pending.id]).sort()).toEqual([
      ["Podpis.XAdES", "b"],
      ["bez-rozszerzenia", "c"],
      ["podpisany (1).xml.xades", "a"],
    ]);
    expect(seen.problems).toEqual([]);
  });

  test("our unsigned auth.xml dropped into the inbox goes to failed/ with a Polish and English reason", async () => {
    const p = pendingFor("unsigned");
    const seen = await start([p]);
    writeFileSync(join(inbox, "auth-5265877635-x.xml"), unsignedFor(p));
    await until("the problem", () => seen.problems.length === 1);
    expect(seen.problems[0]).toMatchObject({ kind: "unsigned", classification: { kind: "unsigned", pending: p } });
    expect(seen.signed).toEqual([]);
    expect(files(join(inbox, "failed"))).toEqual(["auth-5265877635-x.xml", "auth-5265877635-x.xml.reason.txt"]);
    const reason = readFileSync(join(inbox, "failed", "auth-5265877635-x.xml.reason.txt"), "utf8");
    expect(reason).toContain("Plik nie jest podpisany");
    expect(reason).toContain("The file is not signed");
  });

  test("a signed file for an expired challenge goes to failed/ saying a new file will be issued", async () => {
    const p = pendingFor("expired", -1000);
    const seen = await start([p]);
    writeFileSync(join(inbox, "late.xml"), await signedFor(person, p));
    await until("the problem", () => seen.problems.length === 1);
    expect(seen.problems[0]).toMatchObject({ kind: "expired", classification: { kind: "expired", pending: p } });
    expect(seen.signed).toEqual([]);
    const reason = readFileSync(join(inbox, "failed", "late.xml.reason.txt"), "utf8");
    expect(reason).toContain("wygasło");
    expect(reason).toContain("A new auth.xml will be issued");
  });

  test("a file already there before the watcher starts is found; ignored names are left alone", async () => {
    const p = pendingFor("early");
    const bytes = await signedFor(person, p);
    writeFileSync(join(inbox, "signed-while-down.xml"), bytes);
    writeFileSync(join(inbox, ".hidden.xml"), bytes);
    writeFileSync(join(inbox, "half.xml.part"), bytes);
    const seen = await start([p]);
    await until("the signed file", () => seen.processed.length === 1);
    await watcher?.rescan();
    expect(seen.signed.map((s) => s.name)).toEqual(["signed-while-down.xml"]);
    expect(inboxFiles()).toEqual([".hidden.xml", "half.xml.part"]);
  });

  test("a tampered signature goes to failed/ with the reason and KSeF code", async () => {
    const p = pendingFor("tampered");
    const text = Buffer.from(await signedFor(person, p)).toString("utf8");
    const seen = await start([p]);
    writeFileSync(join(inbox, "zmieniony.xml"), text.replace("certificateSubject", "certificateFingerprint"));
    await until("the problem", () => seen.problems.length === 1);
    expect(seen.problems[0]).toMatchObject({ kind: "rejected", classification: { kind: "rejected", reason: "digest-mismatch", ksefExceptionCode: 9105 } });
    expect(seen.signed).toEqual([]);
    const reason = readFileSync(join(inbox, "failed", "zmieniony.xml.reason.txt"), "utf8");
    expect(reason).toContain("Podpis odrzucony");
    expect(reason).toContain("9105");
  });

  test("when onSigned throws, the file stays and is passed on again at the next rescan", async () => {
    const p = pendingFor("retry");
    const bytes = await signedFor(person, p);
    let calls = 0;
    const seen = await start([p], {
      onSigned: () => {
        calls++;
        if (calls === 1) throw new Error("KSeF unreachable");
      },
    });
    writeFileSync(join(inbox, "retry.xml"), bytes);
    await until("the failed submission", () => seen.problems.length === 1);
    expect(seen.problems[0]).toMatchObject({ kind: "submit-failed" });
    expect(inboxFiles()).toEqual(["retry.xml"]);
    expect(seen.processed).toEqual([]);
    await watcher?.rescan();
    expect(calls).toBe(2);
    expect(seen.processed).toEqual([join(inbox, "processed", "retry.xml")]);
    expect(inboxFiles()).toEqual([]);
  });

  test("a file over the size limit goes to failed/ unread", async () => {
    const p = pendingFor("big");
    const seen = await start([p], { maxBytes: 2000 });
    writeFileSync(join(inbox, "big.xml"), Buffer.alloc(5000, 0x20));
    await until("the problem", () => seen.problems.length === 1);
    expect(seen.problems[0]).toMatchObject({ kind: "too-large", movedTo: join(inbox, "failed", "big.xml") });
    expect(seen.problems[0]?.sha256).toBeUndefined();
  });

  test("a second file under a name already in processed/ gets a numbered name", async () => {
    const p1 = pendingFor("one");
    const p2 = pendingFor("two");
    const seen = await start([p1, p2]);
    writeFileSync(join(inbox, "podpis.xml"), await signedFor(person, p1));
    await until("the first", () => seen.processed.length === 1);
    writeFileSync(join(inbox, "podpis.xml"), await signedFor(person, p2));
    await until("the second", () => seen.processed.length === 2);
    expect(seen.processed).toEqual([join(inbox, "processed", "podpis.xml"), join(inbox, "processed", "podpis-2.xml")]);
    expect(seen.signed.map((s) => s.pending.id)).toEqual(["one", "two"]);
  });

  test("after a restart, a copy of a file already in processed/ is a duplicate", async () => {
    const p = pendingFor("restart");
    const bytes = await signedFor(person, p);
    let seen = await start([p]);
    writeFileSync(join(inbox, "a.xml"), bytes);
    await until("the signed file", () => seen.processed.length === 1);
    await watcher?.close();
    seen = await start([p]);
    writeFileSync(join(inbox, "a (1).xml"), bytes);
    await until("the duplicate", () => seen.problems.length === 1);
    expect(seen.problems[0]?.kind).toBe("duplicate");
    expect(seen.signed).toEqual([]);
  });

  test("keepUnsigned leaves an unsigned auth.xml in place, unreported, and still takes a signed file", async () => {
    const p = pendingFor("outbox");
    const seen = await start([p], { keepUnsigned: true });
    writeFileSync(join(inbox, "auth.xml"), unsignedFor(p));
    writeFileSync(join(inbox, "auth-podpisany.xml"), await signedFor(person, p));
    await until("the signed file", () => seen.processed.length === 1);
    await watcher?.rescan();
    expect(inboxFiles()).toEqual(["auth.xml"]);
    expect(seen.problems).toEqual([]);
  });

  test("refuses a missing inbox", async () => {
    await expect(watchInbox(join(root, "nope"), { pending: () => [], onSigned: () => undefined })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("awaitSignature", () => {
  let outbox: string;
  beforeEach(() => {
    outbox = join(root, "outbox");
    mkdirSync(outbox);
  });

  test("writes auth.xml, and resolves with the person's signed file exactly as saved; the outbox file is removed", async () => {
    const p = pendingFor("session");
    const xml = unsignedFor(p);
    const waiting = awaitSignature({ outboxDir: outbox, inboxDir: inbox, request: { fileName: "auth-session.xml", xml, pending: p }, ...TIMING });
    await until("auth.xml in the outbox", () => existsSync(join(outbox, "auth-session.xml")));
    // The person: takes auth.xml from the outbox, signs it (a generic XAdES signer), saves the result in the inbox.
    const signed = await signXml(readFileSync(join(outbox, "auth-session.xml")), { privateKey: person.keys.privateKey, certificate: person.certificate });
    writeFileSync(join(inbox, "auth-session (podpisany).xml"), signed);
    const result = await waiting;
    expect(Buffer.from(result.bytes).equals(signed)).toBe(true);
    expect(result.verified.challenge).toBe(p.challenge);
    expect(result.movedTo).toBe(join(inbox, "processed", "auth-session (podpisany).xml"));
    expect(withoutSubfolders(files(outbox))).toEqual([]);
  });

  test("takes a signed file saved into the outbox by mistake; an unsigned copy in the inbox is reported, not taken", async () => {
    const p = pendingFor("wrong-folder");
    const xml = unsignedFor(p);
    const problems: InboxProblem[] = [];
    const waiting = awaitSignature({
      outboxDir: outbox,
      inboxDir: inbox,
      request: { fileName: "auth-wf.xml", xml, pending: p },
      onProblem: (problem) => {
        problems.push(problem);
      },
      ...TIMING,
    });
    await until("auth.xml in the outbox", () => existsSync(join(outbox, "auth-wf.xml")));
    writeFileSync(join(inbox, "auth-wf.xml"), xml); // the unsigned file, copied into the inbox
    await until("the unsigned copy reported", () => problems.length === 1);
    expect(problems[0]?.kind).toBe("unsigned");
    const signed = await signXml(xml, { privateKey: person.keys.privateKey, certificate: person.certificate });
    writeFileSync(join(outbox, "auth-wf-signed.xml"), signed);
    const result = await waiting;
    expect(Buffer.from(result.bytes).equals(signed)).toBe(true);
    expect(result.movedTo).toBe(join(outbox, "processed", "auth-wf-signed.xml"));
    expect(withoutSubfolders(files(outbox))).toEqual([]);
  });

  test("rejects with challenge-expired when the challenge expires first, and removes the stale auth.xml", async () => {
    const p = pendingFor("expiring", 600);
    const started = Date.now();
    const error = await awaitSignature({
      outboxDir: outbox,
      inboxDir: inbox,
      request: { fileName: "auth-exp.xml", xml: unsignedFor(p), pending: p },
      ...TIMING,
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(error).toBeInstanceOf(KsefCertsError);
    expect(error).toMatchObject({ code: "VALIDATION", details: { reason: "challenge-expired", pendingId: "expiring" } });
    expect((error as Error).message).toContain("new auth.xml file will be issued");
    expect(withoutSubfolders(files(outbox))).toEqual([]);
  });

  test("refuses the same folder for inbox and outbox, an already expired challenge, and honours abort", async () => {
    const p = pendingFor("x");
    const request = { fileName: "auth-x.xml", xml: unsignedFor(p), pending: p };
    await expect(awaitSignature({ outboxDir: inbox, inboxDir: inbox, request })).rejects.toMatchObject({ code: "VALIDATION" });
    const old = pendingFor("old", -1);
    await expect(awaitSignature({ outboxDir: outbox, inboxDir: inbox, request: { ...request, pending: old } })).rejects.toMatchObject({
      details: { reason: "challenge-expired" },
    });
    const controller = new AbortController();
    const waiting = awaitSignature({ outboxDir: outbox, inboxDir: inbox, request, signal: controller.signal, ...TIMING });
    await until("auth.xml in the outbox", () => existsSync(join(outbox, "auth-x.xml")));
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "IO", details: { reason: "aborted" } });
    expect(withoutSubfolders(files(outbox))).toEqual([]);
  });
});
