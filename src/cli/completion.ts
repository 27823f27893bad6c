// Shell completion scripts generated from the command tree itself, so they never drift from the commands.
// Bash and zsh share one script (zsh through bashcompinit); fish and PowerShell get their own.
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

interface Node {
  /** Path of command names below the root, e.g. ['channel', 'open']. */
  path: string[];
  subcommands: string[];
  options: string[];
  /** Fixed values of options that have them (--format). */
  choices: Record<string, string[]>;
}

const FORMAT_VALUES = ['text', 'json', 'csv'];

function optionNames(o: Option): string[] {
  return [o.long, o.short].filter((x): x is string => typeof x === 'string');
}

function walk(cmd: Command, path: string[], out: Node[]): void {
  const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  const choices: Record<string, string[]> = {};
  for (const o of cmd.options) {
    if (o.argChoices) choices[o.long ?? ''] = o.argChoices;
    else if (o.long === '--format') choices['--format'] = FORMAT_VALUES;
    else if (o.long === '--network') choices['--network'] = ['devnet', 'base-sepolia', 'base'];
  }
  if (path.length === 1 && path[0] === 'completion') choices[''] = [...SHELLS];
  out.push({
    path,
    subcommands: visible.map((c) => c.name()),
    options: [...cmd.options.flatMap(optionNames), '--help'],
    choices,
  });
  for (const c of visible) walk(c, [...path, c.name()], out);
}

export function commandTree(program: Command): Node[] {
  const out: Node[] = [];
  walk(program, [], out);
  return out;
}

function bash(program: Command): string {
  const name = program.name();
  const fn = `_${name}_completion`;
  const paths = `|${commandTree(program)
    .map((n) => n.path.join(' '))
    .join('|')}|`;
  const cases = commandTree(program)
    .map((n) => {
      const key = n.path.join(' ');
      const words = [...n.subcommands, ...(n.choices[''] ?? []), ...n.options].join(' ');
      const values = Object.entries(n.choices)
        .filter(([opt]) => opt !== '')
        .map(
          ([opt, vals]) =>
            `        ${opt}) COMPREPLY=( $(compgen -W "${vals.join(' ')}" -- "$cur") ); return 0 ;;`,
        )
        .join('\n');
      const valueCase = values ? `      case "$prev" in\n${values}\n      esac\n` : '';
      return `    "${key}")
${valueCase}      COMPREPLY=( $(compgen -W "${words}" -- "$cur") ) ;;`;
    })
    .join('\n');
  return `# ${name} completion for bash and zsh. Load it with:
#   bash: source <(${name} completion bash)      zsh: autoload -U compinit && compinit && source <(${name} completion zsh)
${fn}() {
  local cur prev path_key w i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  path_key=""
  # The command path: the typed words that extend a known command path (options and arguments are skipped).
  local paths="${paths}" next
  for (( i=1; i<COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    if [[ -z "$path_key" ]]; then next="$w"; else next="$path_key $w"; fi
    if [[ "$paths" == *"|$next|"* ]]; then path_key="$next"; fi
  done
  case "$path_key" in
${cases}
    *) COMPREPLY=() ;;
  esac
  return 0
}
complete -o default -F ${fn} ${name}
`;
}

function zsh(program: Command): string {
  return `#compdef ${program.name()}
# zsh runs the bash completion through bashcompinit.
autoload -U +X bashcompinit && bashcompinit
${bash(program)}`;
}

function fish(program: Command): string {
  const name = program.name();
  const lines = [
    `# ${name} completion for fish: ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
  ];
  lines.push(`complete -c ${name} -f`);
  for (const n of commandTree(program)) {
    // fish conditions: this exact path has been typed and no subcommand of it yet.
    const cond =
      n.path.length === 0
        ? `__fish_use_subcommand`
        : `__fish_seen_subcommand_from ${n.path.at(-1)}${n.subcommands.length ? `; and not __fish_seen_subcommand_from ${n.subcommands.join(' ')}` : ''}`;
    for (const s of n.subcommands) lines.push(`complete -c ${name} -n '${cond}' -a ${s}`);
    for (const v of n.choices[''] ?? []) lines.push(`complete -c ${name} -n '${cond}' -a ${v}`);
    for (const o of n.options) {
      if (!o.startsWith('--')) continue;
      const vals = n.choices[o];
      lines.push(
        `complete -c ${name} -n '${cond}' -l ${o.slice(2)}${vals ? ` -x -a '${vals.join(' ')}'` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function powershell(program: Command): string {
  const name = program.name();
  const table = commandTree(program)
    .map(
      (n) =>
        `    '${n.path.join(' ')}' = @(${[...n.subcommands, ...(n.choices[''] ?? []), ...n.options].map((w) => `'${w}'`).join(', ')})`,
    )
    .join('\n');
  return `# ${name} completion for PowerShell: ${name} completion powershell | Out-String | Invoke-Expression
$__${name}Words = @{
${table}
}
Register-ArgumentCompleter -Native -CommandName '${name}' -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $path = @()
  foreach ($e in $commandAst.CommandElements | Select-Object -Skip 1) {
    $t = $e.ToString()
    if ($t -eq $wordToComplete -or $t.StartsWith('-')) { break }
    $path += $t
  }
  $words = $__${name}Words[($path -join ' ')]
  if ($null -eq $words) { return }
  $words | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}

export function completionScript(program: Command, shell: Shell): string {
  switch (shell) {
    case 'bash':
      return bash(program);
    case 'zsh':
      return zsh(program);
    case 'fish':
      return fish(program);
    case 'powershell':
      return powershell(program);
  }
}
