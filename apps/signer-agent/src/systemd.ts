/**
 * A systemd user unit for the agent (`ksef-signer install --print`). Written to stdout for the
 * person to save as `~/.config/systemd/user/ksef-signer.service`; the agent never installs it itself.
 */

/** What the unit runs. */
export interface UnitInput {
  /** Absolute path of node. */
  readonly node: string;
  /** Absolute path of the CLI entry (dist/cli/main.js). */
  readonly main: string;
  /** The config folder, when not the default. */
  readonly configDir?: string;
  /** Extra `run` arguments (e.g. `--open-signing-page`, `--local-api-port 8787`). */
  readonly runArgs?: readonly string[];
}

/** Quotes a word for a systemd ExecStart line (systemd.service "Command lines"). */
function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, "\\$1")}"`;
}

/**
 * The unit file text.
 * @param input node, entry point, config folder, run arguments
 */
export function systemdUserUnit(input: UnitInput): string {
  const args = [input.node, input.main, "run", ...(input.configDir === undefined ? [] : ["--config-dir", input.configDir]), ...(input.runArgs ?? [])];
  return [
    "# ~/.config/systemd/user/ksef-signer.service — the KSeF signer agent (ksef-signer install --print)",
    "# Enable: systemctl --user daemon-reload && systemctl --user enable --now ksef-signer",
    "# Logs:   journalctl --user -u ksef-signer -f",
    "[Unit]",
    "Description=KSeF signer agent (auth.xml hand-off for ksef-certs)",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${args.map(quote).join(" ")}`,
    "Restart=on-failure",
    "RestartSec=5",
    // Exit code 9 of `run` means "token revoked: pair again": restarting cannot help.
    "RestartPreventExitStatus=9",
    "NoNewPrivileges=true",
    "PrivateTmp=true",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}
