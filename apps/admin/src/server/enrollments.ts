/**
 * The background enrollment runner of the server (filled in below the skeleton): starts enrollments
 * with core `createEnrollmentService`, fans their progress out to `enrollments.watch` subscribers.
 */

/** One progress event of an enrollment, as `enrollments.watch` sends it. */
export interface EnrollmentEvent {
  readonly state: string;
  readonly message: string;
  /** ISO 8601. */
  readonly at: string;
  readonly handoff?: { readonly workstationId: string | null; readonly workstationName: string | null; readonly expiresAt: string | null; readonly fileName: string | null };
}

/** Runs enrollments in the background. */
export interface EnrollmentRunner {
  /** Placeholder for the skeleton; see the full interface once the runner lands. */
  readonly kind: "runner";
}
