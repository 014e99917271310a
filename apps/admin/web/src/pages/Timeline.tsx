/**
 * The expiry timeline: one row per scope and certificate type, bars for the validity of current and queued
 * certificates, gaps (no valid certificate) in red from today on and muted where they already passed, dates
 * printed on a bar only where they fit (always in its tooltip), and a marker at today.
 */
import { useState, type ReactNode } from "react";
import { Link } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { trpc, type RouterOutputs } from "../api";
import { useTranslation } from "react-i18next";
import { formatDate, useLocale } from "../i18n";
import type { Environment } from "@ksef-certs/ksef/vocabulary";
import { environmentChoices, ErrorBox, SelectField, TextField } from "../ui";

type Row = RouterOutputs["certificates"]["timeline"]["rows"][number];

const DAY_MS = 86_400_000;
const WIDTH = 1000;
const LABEL = 340;
/** Row labels longer than this are cut with an ellipsis (the full text is the row's tooltip). */
const LABEL_CHARS = 48;
const ROW = 34;
const AXIS = 28;

function shorten(text: string): string {
  return text.length > LABEL_CHARS ? `…${text.slice(text.length - LABEL_CHARS + 1)}` : text;
}

/** Approximate width of a label in the chart's 11px font (viewBox units), to print it only where it fits. */
function fits(text: string, width: number): boolean {
  return text.length * 6.4 + 10 <= width;
}

/** The part of a gap before today (muted: nothing to do about it) and the part from today on (red). */
function splitAtToday(
  gap: { readonly from: string; readonly to: string },
  today: Date,
): { gap: { from: string; to: string }; from: string; to: string; past: boolean }[] {
  const now = today.toISOString();
  const g = { from: gap.from, to: gap.to };
  if (new Date(gap.to) <= today) return [{ gap: g, from: gap.from, to: gap.to, past: true }];
  if (new Date(gap.from) >= today) return [{ gap: g, from: gap.from, to: gap.to, past: false }];
  return [
    { gap: g, from: gap.from, to: now, past: true },
    { gap: g, from: now, to: gap.to, past: false },
  ];
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The timeline page. */
export function TimelinePage(): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const today = new Date();
  const [environment, setEnvironment] = useState<Environment>("test");
  const [companyId, setCompanyId] = useState("");
  const [from, setFrom] = useState(isoDay(new Date(today.getTime() - 30 * DAY_MS)));
  const [to, setTo] = useState(isoDay(new Date(today.getTime() + 400 * DAY_MS)));
  const tree = useQuery(trpc.org.tree.queryOptions());
  const timeline = useQuery(
    trpc.certificates.timeline.queryOptions({
      environment,
      from: new Date(`${from}T00:00:00Z`).toISOString(),
      to: new Date(`${to}T00:00:00Z`).toISOString(),
      ...(companyId ? { companyId } : {}),
    }),
  );
  const rows = timeline.data?.rows ?? [];
  const gaps = rows.flatMap((r) => r.gaps.map((g) => ({ row: r, ...g })));
  return (
    <section aria-labelledby="timeline-heading">
      <h1 id="timeline-heading">{t("web.timeline.heading")}</h1>
      <div className="filters">
        <SelectField label={t("web.field.environment")} value={environment} onChange={setEnvironment} choices={environmentChoices(t)} />
        <SelectField
          label={t("web.field.company")}
          value={companyId}
          onChange={setCompanyId}
          empty={t("web.common.all")}
          choices={(tree.data ?? []).map((c) => [c.id, c.name] as const)}
        />
        <TextField label={t("web.timeline.from")} type="date" value={from} onChange={setFrom} />
        <TextField label={t("web.timeline.to")} type="date" value={to} onChange={setTo} />
      </div>
      <ErrorBox error={timeline.error} />
      {timeline.isSuccess && rows.length === 0 && <p>{t("web.timeline.empty")}</p>}
      {rows.length > 0 && <Chart rows={rows} from={new Date(`${from}T00:00:00Z`)} to={new Date(`${to}T00:00:00Z`)} today={today} />}
      <p className="hint">{t("web.timeline.legend")}</p>
      <h2>{t("web.timeline.gaps")}</h2>
      {gaps.length === 0 ? (
        timeline.isSuccess && <p>{t("web.timeline.noGaps")}</p>
      ) : (
        <ul aria-label={t("web.timeline.gaps")} className="gaps">
          {gaps.map((g, i) => {
            const past = new Date(g.to) <= today;
            return (
              <li key={`${g.row.label}-${String(i)}`} className={past ? "gap-past" : undefined}>
                <strong>{g.row.label}</strong> ({t(`web.type.${g.row.certificateType}`)}):{" "}
                {t(past ? "web.timeline.pastGap" : "web.timeline.gap", { from: formatDate(locale, g.from), to: formatDate(locale, g.to) })}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function Chart({ rows, from, to, today }: { readonly rows: readonly Row[]; readonly from: Date; readonly to: Date; readonly today: Date }): ReactNode {
  const { t } = useTranslation();
  const locale = useLocale();
  const span = Math.max(to.getTime() - from.getTime(), DAY_MS);
  const x = (iso: string | Date): number => {
    const ms = (typeof iso === "string" ? new Date(iso) : iso).getTime();
    const clamped = Math.min(Math.max(ms, from.getTime()), to.getTime());
    return LABEL + ((clamped - from.getTime()) / span) * (WIDTH - LABEL - 10);
  };
  const height = AXIS + rows.length * ROW + 10;
  // Month ticks along the top.
  const ticks: Date[] = [];
  for (let d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)); d < to; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)))
    ticks.push(d);
  const monthFormat = new Intl.DateTimeFormat(locale === "pl" ? "pl-PL" : "en-GB", { month: "short", year: "2-digit", timeZone: "UTC" });
  return (
    <svg className="timeline" viewBox={`0 0 ${String(WIDTH)} ${String(height)}`} role="img" aria-labelledby="timeline-title">
      <title id="timeline-title">{t("web.timeline.heading")}</title>
      {ticks.map((d) => (
        <g key={d.toISOString()}>
          <line x1={x(d)} x2={x(d)} y1={AXIS - 6} y2={height} className="tick" />
          <text x={x(d) + 2} y={AXIS - 10} className="tick-label">
            {monthFormat.format(d)}
          </text>
        </g>
      ))}
      {rows.map((r, i) => {
        const y = AXIS + i * ROW;
        return (
          <g key={`${r.label}-${r.certificateType}`} className="row">
            <text x={4} y={y + ROW / 2 + 4} className="row-label">
              <title>{`${r.label} · ${t(`web.type.${r.certificateType}`)}`}</title>
              {shorten(`${r.label} · ${t(`web.type.${r.certificateType}`)}`)}
            </text>
            {r.spans.map((s) => {
              const x0 = x(s.validFrom);
              const width = Math.max(x(s.validTo) - x0, 2);
              const dates = `${formatDate(locale, s.validFrom)} – ${formatDate(locale, s.validTo)}`;
              return (
                <Link key={s.id} to={`/certificates/${s.id}`}>
                  <rect x={x0} y={y + 6} width={width} height={ROW - 12} rx={3} className={`bar bar-${s.mode}`}>
                    <title>{`${t(`web.mode.${s.mode}`)}: ${dates}`}</title>
                  </rect>
                  {fits(dates, width) && (
                    <text x={x0 + 4} y={y + ROW / 2 + 4} className="bar-label">
                      {dates}
                    </text>
                  )}
                </Link>
              );
            })}
            {r.gaps
              .flatMap((g) => splitAtToday(g, today))
              .map((part) => {
                const x0 = x(part.from);
                const width = Math.max(x(part.to) - x0, 3);
                const dates = t("web.timeline.gap", { from: formatDate(locale, part.gap.from), to: formatDate(locale, part.gap.to) });
                // A gap running now is labelled by when it ends: that is what the admin must act on.
                const label = part.past
                  ? ""
                  : part.from === part.gap.from
                    ? `${formatDate(locale, part.gap.from)} – ${formatDate(locale, part.gap.to)}`
                    : t("web.timeline.until", { to: formatDate(locale, part.gap.to) });
                return (
                  <g key={`${part.gap.from}-${String(part.past)}`} className={part.past ? "gap gap-past" : "gap"}>
                    <rect x={x0} y={y + 4} width={width} height={ROW - 8}>
                      <title>
                        {part.past ? t("web.timeline.pastGap", { from: formatDate(locale, part.gap.from), to: formatDate(locale, part.gap.to) }) : dates}
                      </title>
                    </rect>
                    {label !== "" && fits(label, width) && (
                      <text x={x0 + 5} y={y + ROW / 2 + 4} className="gap-label">
                        {label}
                      </text>
                    )}
                  </g>
                );
              })}
          </g>
        );
      })}
      <line x1={x(today)} x2={x(today)} y1={AXIS - 6} y2={height} className="today" />
      <text x={x(today) + 3} y={height - 2} className="today-label">
        {t("web.timeline.today")}
      </text>
    </svg>
  );
}
