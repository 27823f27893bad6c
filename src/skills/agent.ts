// Agent skill files: `.claude/skills/<name>.md`, frontmatter then a prompt. The Mayor runs an agent command
// (e.g. `claude -p`) with the prompt plus the raw TOON, so a skill can be written in words, no code.
//
//   ---
//   name: review-notes
//   kinds: [1, 5000-5999]
//   description: Summarise notes
//   timeout: 120s
//   ---
//   You are ... (the prompt body)
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { SkillError } from './errors.js';
import { parseKindList } from './kinds.js';
import type { Skill, SkillMetadata, SkillResult, SkillStatus } from './types.js';

export interface AgentCommand {
  /** Executable, e.g. `claude`. */
  command: string;
  /** Arguments before the prompt, e.g. `['-p']`. */
  args?: readonly string[];
  /** How the prompt reaches the agent: on stdin (default) or as the last argument. */
  input?: 'stdin' | 'argument';
  /** Extra environment variables. */
  env?: Record<string, string>;
  cwd?: string;
  /** Cap on captured stdout (default 1 MiB); the agent is killed beyond it. */
  maxOutputBytes?: number;
}

export const DEFAULT_AGENT_COMMAND: AgentCommand = { command: 'claude', args: ['-p'], input: 'stdin' };

export interface AgentSkillFile {
  name: string;
  kinds: number[];
  description?: string;
  timeoutMs?: number;
  priority?: number;
  /** The prompt (the file minus its frontmatter). */
  body: string;
  path: string;
}

/** Parses an agent skill file's text. Throws SkillError('invalid_agent_file') saying what is wrong. */
export function parseAgentSkillFile(text: string, path: string): AgentSkillFile {
  const match = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
  if (!match) {
    throw new SkillError(
      'invalid_agent_file',
      `${path}: no frontmatter; start the file with --- / name, kinds / ---`,
    );
  }
  const fields = new Map<string, string>();
  for (const line of match[1]!.split(/\r?\n/)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const kv = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (!kv)
      throw new SkillError('invalid_agent_file', `${path}: frontmatter line "${line}" is not "key: value"`);
    fields.set(kv[1]!.toLowerCase(), unquote(kv[2]!.trim()));
  }
  const name = fields.get('name') ?? basename(path).replace(/\.md$/i, '');
  const kindsText = fields.get('kinds');
  if (!kindsText)
    throw new SkillError('invalid_agent_file', `${path}: frontmatter needs kinds, e.g. kinds: [1, 5065]`);
  let kinds: number[];
  try {
    kinds = parseKindList(kindsText);
  } catch (error) {
    throw new SkillError('invalid_agent_file', `${path}: ${(error as Error).message}`);
  }
  const out: AgentSkillFile = { name, kinds, body: match[2]!.trim(), path };
  const description = fields.get('description');
  if (description) out.description = description;
  const timeout = fields.get('timeout');
  if (timeout) out.timeoutMs = parseDuration(timeout, path);
  const priority = fields.get('priority');
  if (priority) {
    if (!/^-?\d+$/.test(priority))
      throw new SkillError('invalid_agent_file', `${path}: priority must be an integer`);
    out.priority = Number(priority);
  }
  return out;
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}

/** `30s`, `2m`, `500ms`; a bare number is seconds. */
function parseDuration(text: string, path: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text);
  if (!m)
    throw new SkillError('invalid_agent_file', `${path}: timeout "${text}" must look like 30s, 2m or 500ms`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms <= 0) throw new SkillError('invalid_agent_file', `${path}: timeout must be positive`);
  return Math.round(ms);
}

/** The prompt the agent gets: the file's body, then the raw TOON in a fenced block. */
export function agentPrompt(body: string, toon: string): string {
  return `${body}\n\n\`\`\`toon\n${toon.replace(/\n$/, '')}\n\`\`\`\n`;
}

const utf8 = new TextDecoder();
const STATUSES: readonly SkillStatus[] = ['handled', 'ignored', 'failed'];

/** A Skill that runs the agent command as a child process for each event. */
export function agentSkill(file: AgentSkillFile, agent: AgentCommand = DEFAULT_AGENT_COMMAND): Skill {
  return {
    name: file.name,
    ...(file.description !== undefined && { description: file.description }),
    ...(file.priority !== undefined && { priority: file.priority }),
    ...(file.timeoutMs !== undefined && { timeoutMs: file.timeoutMs }),
    supportedEventKinds: () => file.kinds,
    async handleToon(payload, metadata) {
      const prompt = agentPrompt(file.body, utf8.decode(payload));
      const stdout = await runAgent(agent, prompt, metadata);
      return agentOutputToResult(stdout);
    },
  };
}

/** stdout -> SkillResult: a JSON object with a valid `status` is taken as the result; anything else is data. */
export function agentOutputToResult(stdout: string): SkillResult {
  const text = stdout.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status: 'handled', summary: text.split('\n')[0]!.slice(0, 200), data: { output: text } };
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const obj = parsed as Record<string, unknown>;
    if (STATUSES.includes(obj.status as SkillStatus)) {
      const result: SkillResult = { status: obj.status as SkillStatus };
      if (typeof obj.summary === 'string') result.summary = obj.summary;
      if (obj.retry === false) result.retry = false;
      if (Array.isArray(obj.nextJobs)) result.nextJobs = obj.nextJobs as SkillResult['nextJobs'] & [];
      if (typeof obj.data === 'object' && obj.data !== null)
        result.data = obj.data as Record<string, unknown>;
      return result;
    }
  }
  return { status: 'handled', data: { output: parsed } };
}

function runAgent(agent: AgentCommand, prompt: string, metadata: SkillMetadata): Promise<string> {
  const maxBytes = agent.maxOutputBytes ?? 1024 * 1024;
  const args = [...(agent.args ?? [])];
  const viaArgument = agent.input === 'argument';
  if (viaArgument) args.push(prompt);
  return new Promise((resolve, reject) => {
    const child = spawn(agent.command, args, {
      cwd: agent.cwd,
      env: {
        ...process.env,
        ...agent.env,
        CROSSTOWN_SKILL_KIND: String(metadata.kind),
        CROSSTOWN_EVENT_ID: metadata.eventId ?? '',
        CROSSTOWN_RELAY_URL: metadata.relayUrl ?? '',
        CROSSTOWN_PRIVATE_SENDER: metadata.private?.senderPubkey ?? '',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let errTail = '';
    let settled = false;
    const finish = (error: Error | undefined, value?: string): void => {
      if (settled) return;
      settled = true;
      metadata.signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value!);
    };
    // The runner's timeout aborts the signal: kill the agent so it does not linger.
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(new Error(`agent ${agent.command} killed: ${String(metadata.signal.reason ?? 'aborted')}`));
    };
    metadata.signal.addEventListener('abort', onAbort);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxBytes) {
        child.kill('SIGKILL');
        finish(new Error(`agent ${agent.command} wrote more than ${maxBytes} bytes; killed`));
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errTail = (errTail + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (error) =>
      finish(new Error(`could not start agent ${agent.command}: ${error.message}`)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) finish(undefined, Buffer.concat(out).toString('utf8'));
      else
        finish(
          new Error(`agent ${agent.command} exited with ${code ?? signal}: ${errTail.trim() || 'no stderr'}`),
        );
    });
    child.stdin.on('error', () => {}); // an agent that exits without reading stdin is not our crash
    child.stdin.end(viaArgument ? '' : prompt);
  });
}

/** Reads and parses one agent skill file into a Skill. */
export async function loadAgentSkillFile(path: string, agent?: AgentCommand): Promise<Skill> {
  return agentSkill(parseAgentSkillFile(await readFile(path, 'utf8'), path), agent);
}
