CREATE TYPE "public"."certificate_mode" AS ENUM('current', 'queued');--> statement-breakpoint
CREATE TYPE "public"."certificate_type" AS ENUM('Authentication', 'Offline');--> statement-breakpoint
CREATE TYPE "public"."environment" AS ENUM('test', 'demo', 'production');--> statement-breakpoint
CREATE TYPE "public"."scope_type" AS ENUM('company', 'branch', 'operator');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text,
	"before" jsonb,
	"after" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_log_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "branches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"company_id" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"internal_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "branches_internal_id_unique" UNIQUE("internal_id")
);
--> statement-breakpoint
CREATE TABLE "certificates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"scope_type" "scope_type" NOT NULL,
	"company_id" uuid NOT NULL,
	"branch_id" uuid,
	"operator_id" uuid,
	"environment" "environment" NOT NULL,
	"certificate_type" "certificate_type" NOT NULL,
	"mode" "certificate_mode" NOT NULL,
	"name" text NOT NULL,
	"serial_number" text NOT NULL,
	"subject_identifier_type" text NOT NULL,
	"subject_identifier_value" text NOT NULL,
	"subject" text NOT NULL,
	"fingerprint" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	"certificate_der" "bytea" NOT NULL,
	"key_file" "bytea" NOT NULL,
	"sealed_password" "bytea",
	"source" text NOT NULL,
	"enrollment_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "certificates_scope_columns" CHECK (("certificates"."scope_type" = 'company' AND "certificates"."branch_id" IS NULL AND "certificates"."operator_id" IS NULL) OR ("certificates"."scope_type" = 'branch' AND "certificates"."branch_id" IS NOT NULL AND "certificates"."operator_id" IS NULL) OR ("certificates"."scope_type" = 'operator' AND "certificates"."operator_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "companies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"nip" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "companies_nip_unique" UNIQUE("nip")
);
--> statement-breakpoint
CREATE TABLE "enrollments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"scope_type" "scope_type" NOT NULL,
	"company_id" uuid NOT NULL,
	"branch_id" uuid,
	"operator_id" uuid,
	"environment" "environment" NOT NULL,
	"certificate_type" "certificate_type" NOT NULL,
	"mode" "certificate_mode" NOT NULL,
	"name" text NOT NULL,
	"valid_from" timestamp with time zone,
	"state" text NOT NULL,
	"auth_method" text NOT NULL,
	"signing_certificate_id" uuid,
	"workstation_id" uuid,
	"key_file" "bytea",
	"sealed_password" "bytea",
	"csr_der" "bytea",
	"public_key_spki" "bytea",
	"challenge" text,
	"challenge_expires_at" timestamp with time zone,
	"handoff_file" text,
	"auth_reference_number" text,
	"sealed_session" "bytea",
	"submitted_at" timestamp with time zone,
	"ksef_reference_number" text,
	"certificate_serial_number" text,
	"certificate_id" uuid,
	"failure_code" integer,
	"failure_reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "enrollments_ksef_reference_number_unique" UNIQUE("ksef_reference_number")
);
--> statement-breakpoint
CREATE TABLE "operator_branches" (
	"operator_id" uuid NOT NULL,
	"branch_id" uuid NOT NULL,
	CONSTRAINT "operator_branches_operator_id_branch_id_pk" PRIMARY KEY("operator_id","branch_id")
);
--> statement-breakpoint
CREATE TABLE "operators" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"company_id" uuid NOT NULL,
	"name" text NOT NULL,
	"pesel" text,
	"nip" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workstations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"branch_id" uuid NOT NULL,
	"name" text NOT NULL,
	"outbox_dir" text NOT NULL,
	"inbox_dir" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "branches" ADD CONSTRAINT "branches_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_signing_certificate_id_certificates_id_fk" FOREIGN KEY ("signing_certificate_id") REFERENCES "public"."certificates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_workstation_id_workstations_id_fk" FOREIGN KEY ("workstation_id") REFERENCES "public"."workstations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operator_branches" ADD CONSTRAINT "operator_branches_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."operators"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operator_branches" ADD CONSTRAINT "operator_branches_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operators" ADD CONSTRAINT "operators_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workstations" ADD CONSTRAINT "workstations_branch_id_branches_id_fk" FOREIGN KEY ("branch_id") REFERENCES "public"."branches"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "branches_company_code" ON "branches" USING btree ("company_id","code");--> statement-breakpoint
CREATE UNIQUE INDEX "certificates_environment_serial" ON "certificates" USING btree ("environment","serial_number");--> statement-breakpoint
CREATE INDEX "certificates_company" ON "certificates" USING btree ("company_id");--> statement-breakpoint
CREATE INDEX "certificates_branch" ON "certificates" USING btree ("branch_id");--> statement-breakpoint
CREATE INDEX "certificates_operator" ON "certificates" USING btree ("operator_id");--> statement-breakpoint
CREATE INDEX "certificates_expiry" ON "certificates" USING btree ("environment","certificate_type","valid_to");--> statement-breakpoint
CREATE INDEX "enrollments_state" ON "enrollments" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "operators_company_pesel" ON "operators" USING btree ("company_id","pesel");--> statement-breakpoint
CREATE INDEX "operators_company" ON "operators" USING btree ("company_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workstations_branch_name" ON "workstations" USING btree ("branch_id","name");