CREATE TABLE "ksef_call_grants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "renewal_policies" (
	"scope_key" text PRIMARY KEY NOT NULL,
	"scope_type" "scope_type" NOT NULL,
	"company_id" uuid NOT NULL,
	"branch_id" uuid,
	"operator_id" uuid,
	"renew_before_days" integer,
	"approval" text,
	"signing" text,
	"workstation_id" uuid,
	"person_lead_days" integer,
	"successor_mode" "certificate_mode",
	"key_algorithm" text,
	"password" text,
	"updated_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "renewals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"certificate_id" uuid NOT NULL,
	"company_id" uuid NOT NULL,
	"state" text NOT NULL,
	"route" text,
	"due_at" timestamp with time zone NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"claimed_by" text,
	"claimed_until" timestamp with time zone,
	"enrollment_id" uuid,
	"enrollments_started" integer DEFAULT 0 NOT NULL,
	"successor_id" uuid,
	"reason_id" text,
	"reason_params" jsonb,
	"approved_by" text,
	"approved_at" timestamp with time zone,
	"sealed_password" "bytea",
	"signature_requested_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "renewals_certificate_id_unique" UNIQUE("certificate_id")
);
--> statement-breakpoint
ALTER TABLE "enrollments" ADD COLUMN "key_algorithm" text DEFAULT 'EC-P256' NOT NULL;--> statement-breakpoint
ALTER TABLE "renewal_policies" ADD CONSTRAINT "renewal_policies_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renewal_policies" ADD CONSTRAINT "renewal_policies_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renewal_policies" ADD CONSTRAINT "renewal_policies_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renewal_policies" ADD CONSTRAINT "renewal_policies_workstation_id_workstations_id_fk" FOREIGN KEY ("workstation_id") REFERENCES "public"."workstations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renewals" ADD CONSTRAINT "renewals_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renewals" ADD CONSTRAINT "renewals_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "renewals" ADD CONSTRAINT "renewals_successor_id_certificates_id_fk" FOREIGN KEY ("successor_id") REFERENCES "public"."certificates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ksef_call_grants_key_at" ON "ksef_call_grants" USING btree ("key","at");--> statement-breakpoint
CREATE INDEX "renewal_policies_company" ON "renewal_policies" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "renewals_claim" ON "renewals" USING btree ("state","next_attempt_at");--> statement-breakpoint
CREATE INDEX "renewals_company" ON "renewals" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "renewals_enrollment" ON "renewals" USING btree ("enrollment_id");