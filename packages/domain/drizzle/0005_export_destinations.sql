CREATE TABLE "export_destinations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"path" text NOT NULL,
	"company_id" uuid,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "export_destinations_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "export_destinations" ADD CONSTRAINT "export_destinations_company_id_companies_id_fk" FOREIGN KEY ("company_id") REFERENCES "public"."companies"("id") ON DELETE cascade ON UPDATE no action;