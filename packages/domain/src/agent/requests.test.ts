import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { JAN_PESEL, OTHER_PESEL, makeJanAndEwa, makePerson, newChallenge, signedFor, unsignedFor, NIP, type Person } from "@ksef-certs/ksef/testing";
import type { PendingSignature } from "@ksef-certs/ksef/handoff";
import { verifyAuditLog } from "../store/audit.js";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { signingRequests } from "../store/schema.js";
import { seedEnrollment, seedOrg, type Org } from "./__fixtures__/org.js";
import {
  acceptSignedFile,
  createSigningRequest,
  createSigningRequestNotifier,
  listSigningRequests,
  markSigningRequestFailed,
  pendingSigningRequests,
  sha256Hex,
  waitForSigningRequests,
  type SigningRequestEvent,
} from "./index.js";
import type { Db } from "../store/db.js";

let person: Person;
let jan: Person;
let other: Person;
beforeAll(async () => {
  person = await makePerson();
  ({ jan, ewa: other } = await makeJanAndEwa());
});

const now = (): Date => new Date();

/** A pending signature and its request row for the workstation. */
async function request(db: Db, org: Org, options: { enrollmentId?: string; inMs?: number; workstationId?: string } = {}) {
  const p: PendingSignature = {
    id: "",
    challenge: newChallenge(),
    contextIdentifier: { type: "Nip", value: NIP },
    expiresAt: new Date(Date.now() + (options.inMs ?? 600_000)),
  };
  const view = await createSigningRequest(db, {
    workstationId: options.workstationId ?? org.workstationId,
    enrollmentId: options.enrollmentId ?? null,
    challenge: p.challenge,
    contextIdentifier: { type: "Nip", value: NIP },
    xml: unsignedFor(p),
    expiresAt: p.expiresAt,
  });
  return { p, view };
}

describeEachDb("agent signing requests", (ctx) => {
  it("accepts a verified signed file, stores its bytes exactly, answers duplicate for the same bytes and 409 for others", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const notifier = createSigningRequestNotifier();
    const events: SigningRequestEvent[] = [];
    notifier.subscribe((e) => events.push(e));
    const { p, view } = await request(db, org);
    const signed = await signedFor(person, p);
    const accepted = await acceptSignedFile(db, {
      workstationId: org.workstationId,
      requestId: view.id,
      bytes: signed,
      sha256: sha256Hex(signed).toUpperCase(),
      notifier,
    });
    expect(accepted.status).toBe("signed");
    expect(accepted.signer).toMatchObject({ identity: { type: "Nip", value: NIP }, identitySource: "certificateSubject" });
    expect(events).toEqual([{ workstationId: org.workstationId, requestId: view.id, enrollmentId: null, status: "signed" }]);
    const [row] = await db.select().from(signingRequests).where(eq(signingRequests.id, view.id));
    expect(Buffer.from(row?.signedXml ?? new Uint8Array()).equals(Buffer.from(signed))).toBe(true);
    expect(row?.signedSha256).toBe(sha256Hex(signed));
    expect(row?.status).toBe("signed");

    const again = await acceptSignedFile(db, { workstationId: org.workstationId, requestId: view.id, bytes: signed, notifier });
    expect(again.status).toBe("duplicate");
    expect(events).toHaveLength(1);
    // A second, different but equally valid signature of the same request (new SigningTime) is refused.
    const other = await signedFor(person, p);
    expect(sha256Hex(other)).not.toBe(sha256Hex(signed));
    await expect(acceptSignedFile(db, { workstationId: org.workstationId, requestId: view.id, bytes: other })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "CONFLICT") && e.details["reason"] === "already-signed",
    );
    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it("refuses unsigned, foreign-challenge and tampered files, a wrong SHA-256, and another workstation's request", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const { p, view } = await request(db, org);
    const base = { workstationId: org.workstationId, requestId: view.id };
    await expect(acceptSignedFile(db, { ...base, bytes: unsignedFor(p) })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "VALIDATION") && e.details["reason"] === "unsigned",
    );
    const foreign = await signedFor(person, { ...p, challenge: newChallenge() });
    await expect(acceptSignedFile(db, { ...base, bytes: foreign })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "VALIDATION") && e.details["reason"] === "wrong-challenge",
    );
    const wrongContext = await signedFor(person, p, "1111111111");
    await expect(acceptSignedFile(db, { ...base, bytes: wrongContext })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "VALIDATION") && typeof e.details["ksefExceptionCode"] === "number",
    );
    await expect(acceptSignedFile(db, { ...base, bytes: new TextEncoder().encode("hello") })).rejects.toSatisfy((e) => isKsefCertsError(e, "MALFORMED"));
    const signed = await signedFor(person, p);
    await expect(acceptSignedFile(db, { ...base, bytes: signed, sha256: "0".repeat(64) })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "MALFORMED") && e.details["reason"] === "sha256-mismatch",
    );
    await expect(acceptSignedFile(db, { ...base, workstationId: org.otherWorkstationId, bytes: signed })).rejects.toSatisfy((e) =>
      isKsefCertsError(e, "NOT_FOUND"),
    );
    await expect(acceptSignedFile(db, { ...base, requestId: "not-a-uuid", bytes: signed })).rejects.toSatisfy((e) => isKsefCertsError(e, "NOT_FOUND"));
    // None of the refusals changed the request.
    const [row] = await db.select().from(signingRequests).where(eq(signingRequests.id, view.id));
    expect(row?.status).toBe("pending");
    expect(row?.signedXml).toBeNull();
    await expect(acceptSignedFile(db, { ...base, bytes: signed })).resolves.toMatchObject({ status: "signed" });
  });

  it("an operator's request: a file signed by another person (or by no person) is refused with the reason and stays pending; the operator's is accepted; the file name carries the operator", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const enrollmentId = await seedEnrollment(db, org, { name: "Jan Kowalski", pesel: JAN_PESEL });
    const { p, view } = await request(db, org, { enrollmentId });
    expect(view.fileName).toMatch(/^auth-5265877635-Jan-Kowalski-[A-F0-9]{10}-[A-F0-9]{2}\.xml$/);
    const base = { workstationId: org.workstationId, requestId: view.id };
    const error = await acceptSignedFile(db, { ...base, bytes: await signedFor(other, p) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isKsefCertsError(error, "VALIDATION")) throw new Error(`expected a VALIDATION refusal, got ${String(error)}`);
    expect(error.details["reason"]).toBe("wrong-signer");
    expect(error.message).toContain(`signed by PESEL ${OTHER_PESEL}, but this request is for Jan Kowalski (PESEL ${JAN_PESEL})`);
    expect(error.message).toContain(`Plik podpisał(a) PESEL ${OTHER_PESEL}, a ten wniosek dotyczy operatora Jan Kowalski (PESEL ${JAN_PESEL})`);
    expect(error.details["signer"]).toEqual({ type: "Pesel", value: OTHER_PESEL });
    // Anna's NIP certificate names no PESEL: not Jan either.
    await expect(acceptSignedFile(db, { ...base, bytes: await signedFor(person, p) })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "VALIDATION") && e.details["reason"] === "wrong-signer" && e.message.includes(`signed by NIP ${NIP}`),
    );
    const [row] = await db.select().from(signingRequests).where(eq(signingRequests.id, view.id));
    expect(row?.status).toBe("pending");
    expect(row?.signedXml).toBeNull();
    const accepted = await acceptSignedFile(db, { ...base, bytes: await signedFor(jan, p) });
    expect(accepted).toMatchObject({ status: "signed", signer: { identity: { type: "Pesel", value: JAN_PESEL } } });
  });

  it("company scope and an operator without PESEL or NIP on record: any signer is accepted", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const company = await request(db, org, { enrollmentId: await seedEnrollment(db, org) });
    expect(company.view.fileName).toMatch(/^auth-5265877635-[A-F0-9]{10}-[A-F0-9]{2}\.xml$/);
    await expect(
      acceptSignedFile(db, { workstationId: org.workstationId, requestId: company.view.id, bytes: await signedFor(other, company.p) }),
    ).resolves.toMatchObject({ status: "signed" });
    const unknown = await request(db, org, { enrollmentId: await seedEnrollment(db, org, { name: "Stażysta" }) });
    expect(unknown.view.fileName).toContain("-Stazysta-");
    await expect(
      acceptSignedFile(db, { workstationId: org.workstationId, requestId: unknown.view.id, bytes: await signedFor(other, unknown.p) }),
    ).resolves.toMatchObject({ status: "signed" });
  });

  it("a renewed request replaces the pending one; an upload for the old one is CONFLICT challenge-expired with replacedBy", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const enrollmentId = await seedEnrollment(db, org);
    const first = await request(db, org, { enrollmentId });
    const second = await request(db, org, { enrollmentId });
    const listed = await listSigningRequests(db, { enrollmentId });
    expect(listed.map((r) => [r.id, r.status, r.replacedBy])).toEqual([
      [second.view.id, "pending", undefined],
      [first.view.id, "expired", second.view.id],
    ]);
    const signedOld = await signedFor(person, first.p);
    await expect(acceptSignedFile(db, { workstationId: org.workstationId, requestId: first.view.id, bytes: signedOld })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "CONFLICT") && e.details["reason"] === "challenge-expired" && e.details["replacedBy"] === second.view.id,
    );
  });

  it("a request whose challenge ran out is refused (expired, no replacement yet) and shows up as expired to the agent", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const { p, view } = await request(db, org, { inMs: 1000 });
    const signed = await signedFor(person, p);
    const later = new Date(Date.now() + 2000);
    const first = await pendingSigningRequests(db, org.workstationId, { now: new Date() });
    expect(first.requests.map((r) => r.id)).toEqual([view.id]);
    await expect(acceptSignedFile(db, { workstationId: org.workstationId, requestId: view.id, bytes: signed, now: later })).rejects.toSatisfy(
      (e) => isKsefCertsError(e, "CONFLICT") && e.details["reason"] === "challenge-expired" && e.details["replacedBy"] === undefined,
    );
    const next = await pendingSigningRequests(db, org.workstationId, { after: first.cursor, now: later });
    expect(next.changed).toBe(true);
    expect(next.requests.map((r) => [r.id, r.status])).toEqual([[view.id, "expired"]]);
  });

  it("lists pending requests with their XML, then only what changed since the cursor (plus what is still pending)", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const empty = await pendingSigningRequests(db, org.workstationId);
    expect(empty).toMatchObject({ requests: [], changed: false });
    const a = await request(db, org);
    await request(db, org, { workstationId: org.otherWorkstationId });
    const first = await pendingSigningRequests(db, org.workstationId, { after: empty.cursor });
    expect(first.changed).toBe(true);
    expect(first.requests.map((r) => r.id)).toEqual([a.view.id]);
    expect(Buffer.from(first.requests[0]?.xml ?? new Uint8Array()).equals(Buffer.from(unsignedFor(a.p)))).toBe(true);
    expect(first.requests[0]?.deliveredAt).toBeInstanceOf(Date);
    const quiet = await pendingSigningRequests(db, org.workstationId, { after: first.cursor });
    expect(quiet.changed).toBe(false);
    expect(quiet.cursor).toBe(first.cursor);
    expect(quiet.requests.map((r) => r.id)).toEqual([a.view.id]);
    await markSigningRequestFailed(db, { workstationId: org.workstationId, requestId: a.view.id, reason: "Operator cancelled in the signing page" });
    const failed = await pendingSigningRequests(db, org.workstationId, { after: quiet.cursor });
    expect(failed.changed).toBe(true);
    expect(failed.requests.map((r) => [r.id, r.status, r.failureReason])).toEqual([[a.view.id, "failed", "Operator cancelled in the signing page"]]);
    await expect(pendingSigningRequests(db, org.workstationId, { after: "yesterday" })).rejects.toSatisfy((e) => isKsefCertsError(e, "VALIDATION"));
    // A failed request still takes a valid file: the person may simply have tried again.
    await expect(acceptSignedFile(db, { workstationId: org.workstationId, requestId: a.view.id, bytes: await signedFor(person, a.p) })).resolves.toMatchObject({
      status: "signed",
    });
    await expect(markSigningRequestFailed(db, { workstationId: org.workstationId, requestId: a.view.id, reason: "late" })).rejects.toSatisfy((e) =>
      isKsefCertsError(e, "CONFLICT"),
    );
    await expect(markSigningRequestFailed(db, { workstationId: org.otherWorkstationId, requestId: a.view.id, reason: "x" })).rejects.toSatisfy((e) =>
      isKsefCertsError(e, "NOT_FOUND"),
    );
    await expect(markSigningRequestFailed(db, { workstationId: org.workstationId, requestId: a.view.id, reason: " " })).rejects.toSatisfy((e) =>
      isKsefCertsError(e, "VALIDATION"),
    );
  });

  it("the long poll wakes on a new request at once and otherwise answers after waitMs", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const notifier = createSigningRequestNotifier();
    const start = await pendingSigningRequests(db, org.workstationId);
    const t0 = performance.now();
    const idle = await waitForSigningRequests(db, org.workstationId, { after: start.cursor, waitMs: 300, notifier, now });
    const idleMs = performance.now() - t0;
    expect(idle.changed).toBe(false);
    expect(idleMs).toBeGreaterThanOrEqual(290);
    expect(idleMs).toBeLessThan(5000);

    const t1 = performance.now();
    const waiting = waitForSigningRequests(db, org.workstationId, { after: idle.cursor, waitMs: 30_000, notifier, now });
    // Another workstation's request does not wake it.
    await createSigningRequest(db, {
      workstationId: org.otherWorkstationId,
      challenge: newChallenge(),
      contextIdentifier: { type: "Nip", value: NIP },
      xml: new TextEncoder().encode("<x/>"),
      expiresAt: new Date(Date.now() + 600_000),
      notifier,
    });
    const made = await request(db, org);
    notifier.emit({ workstationId: org.workstationId, requestId: made.view.id, enrollmentId: null, status: "pending" });
    const woke = await waiting;
    expect(performance.now() - t1).toBeLessThan(5000);
    expect(woke.changed).toBe(true);
    expect(woke.requests.map((r) => r.id)).toEqual([made.view.id]);
    await expect(waitForSigningRequests(db, org.workstationId, { waitMs: 30_001, notifier })).rejects.toSatisfy((e) => isKsefCertsError(e, "VALIDATION"));

    // The agent disconnects mid-wait: the poll ends at once instead of holding the wait.
    const controller = new AbortController();
    // From a cursor past every change (the insert may have landed between woke's cursor and rows reads: then it is sent again once).
    const settled = await pendingSigningRequests(db, org.workstationId, { after: woke.cursor });
    const cancelled = waitForSigningRequests(db, org.workstationId, { after: settled.cursor, waitMs: 30_000, notifier, signal: controller.signal, now });
    const t2 = performance.now();
    setTimeout(() => {
      controller.abort();
    }, 50);
    await expect(cancelled).rejects.toSatisfy((e) => isKsefCertsError(e, "IO") && e.details["reason"] === "aborted");
    expect(performance.now() - t2).toBeLessThan(5000);
  });
});
