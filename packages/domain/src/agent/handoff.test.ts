import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { isKsefCertsError } from "@ksef-certs/ksef/errors";
import { makePerson, newChallenge, signedFor, unsignedFor, NIP, type Person } from "@ksef-certs/ksef/testing";
import { describeEachDb } from "../store/__fixtures__/test-db.js";
import { signingRequests } from "../store/schema.js";
import { seedEnrollment, seedOrg, type Org } from "./__fixtures__/org.js";
import { acceptSignedFile, createAgentHandoff, createSigningRequestNotifier, listSigningRequests, pendingSigningRequests } from "./index.js";

let person: Person;
beforeAll(async () => {
  person = await makePerson();
});

function publication(org: Org, enrollmentId: string, inMs = 600_000) {
  const challenge = newChallenge();
  const p = { id: enrollmentId, challenge, contextIdentifier: { type: "Nip" as const, value: NIP }, expiresAt: new Date(Date.now() + inMs) };
  return {
    p,
    req: { enrollmentId, workstationId: org.workstationId, challenge, xml: unsignedFor(p), expiresAt: p.expiresAt, contextIdentifier: p.contextIdentifier },
  };
}

describeEachDb("agent hand-off", (ctx) => {
  it("publish → the agent sees the request → upload → signed resolves with the bytes and the request is submitted", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const notifier = createSigningRequestNotifier();
    const handoff = createAgentHandoff({ db, notifier, pollIntervalMs: 60_000 });
    const enrollmentId = await seedEnrollment(db, org);
    const { p, req } = publication(org, enrollmentId);
    const { file } = await handoff.publish(req);
    const [delivered] = (await pendingSigningRequests(db, org.workstationId)).requests;
    expect(file).toBe(`C:\\KSeF\\do-podpisu\\${delivered?.fileName}`);
    const controller = new AbortController();
    const waiting = handoff.signed({ ...req, file, signal: controller.signal });
    const signed = await signedFor(person, p);
    const t0 = performance.now();
    await acceptSignedFile(db, { workstationId: org.workstationId, requestId: delivered?.id ?? "", bytes: signed, notifier });
    const bytes = await waiting;
    // Woken by the notifier, not by the (one minute) poll.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(Buffer.from(bytes).equals(Buffer.from(signed))).toBe(true);
    const [row] = await db
      .select()
      .from(signingRequests)
      .where(eq(signingRequests.id, delivered?.id ?? ""));
    expect(row?.status).toBe("submitted");
  });

  it("another server process: without a notification the slow poll finds the upload", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const handoff = createAgentHandoff({ db, notifier: createSigningRequestNotifier(), pollIntervalMs: 50 });
    const enrollmentId = await seedEnrollment(db, org);
    const { p, req } = publication(org, enrollmentId);
    const { file } = await handoff.publish(req);
    const waiting = handoff.signed({ ...req, file, signal: new AbortController().signal });
    const [delivered] = (await pendingSigningRequests(db, org.workstationId)).requests;
    const signed = await signedFor(person, p);
    // The "other process" has its own notifier, which the hand-off does not listen to.
    await acceptSignedFile(db, { workstationId: org.workstationId, requestId: delivered?.id ?? "", bytes: signed, notifier: createSigningRequestNotifier() });
    expect(Buffer.from(await waiting).equals(Buffer.from(signed))).toBe(true);
  });

  it("expiry rejects with challenge-expired; the renewal replaces the request (replacedBy); abort rejects", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const notifier = createSigningRequestNotifier();
    const handoff = createAgentHandoff({ db, notifier, pollIntervalMs: 60_000 });
    const enrollmentId = await seedEnrollment(db, org);
    const first = publication(org, enrollmentId, 300);
    const { file } = await handoff.publish(first.req);
    await expect(handoff.signed({ ...first.req, file, signal: new AbortController().signal })).rejects.toSatisfy(
      (e) => isKsefCertsError(e) && e.details["reason"] === "challenge-expired",
    );
    const second = publication(org, enrollmentId);
    await handoff.publish(second.req);
    const listed = await listSigningRequests(db, { enrollmentId });
    expect(listed.map((r) => [r.challenge, r.status])).toEqual([
      [second.req.challenge, "pending"],
      [first.req.challenge, "expired"],
    ]);
    expect(listed[1]?.replacedBy).toBe(listed[0]?.id);

    const controller = new AbortController();
    const waiting = handoff.signed({ ...second.req, file, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toSatisfy((e) => isKsefCertsError(e, "IO") && e.details["reason"] === "aborted");
    // Aborting leaves the request pending: a resumed run waits for the same file.
    expect((await listSigningRequests(db, { enrollmentId, statuses: ["pending"] })).map((r) => r.challenge)).toEqual([second.req.challenge]);
  });

  it("signed() after a restart finds the stored upload at once", async () => {
    const { db } = ctx();
    const org = await seedOrg(db);
    const enrollmentId = await seedEnrollment(db, org);
    const { p, req } = publication(org, enrollmentId);
    const before = createAgentHandoff({ db, notifier: createSigningRequestNotifier() });
    const { file } = await before.publish(req);
    const [delivered] = (await pendingSigningRequests(db, org.workstationId)).requests;
    const signed = await signedFor(person, p);
    await acceptSignedFile(db, { workstationId: org.workstationId, requestId: delivered?.id ?? "", bytes: signed });
    const after = createAgentHandoff({ db, notifier: createSigningRequestNotifier(), pollIntervalMs: 60_000 });
    expect(Buffer.from(await after.signed({ ...req, file, signal: new AbortController().signal })).equals(Buffer.from(signed))).toBe(true);
  });
});
