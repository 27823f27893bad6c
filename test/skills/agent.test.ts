import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentCommand,
  agentOutputToResult,
  agentSkill,
  parseAgentSkillFile,
} from '../../src/skills/agent.js';
import { loadSkills } from '../../src/skills/loader.js';
import { SkillPipeline } from '../../src/skills/pipeline.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import { buildSignedToonEvent, testContext } from '../../src/testing/index.js';

const FAKE_AGENT = join(import.meta.dirname, 'fixtures', 'fake-agent.mjs');

const FILE = `---
name: note-reviewer
kinds: [1, 5000-5002]
description: "Reviews notes"
timeout: 20s
---
You review notes. Reply with JSON.
`;

let dir: string;
let record: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-skill-'));
  record = join(dir, 'record.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function agent(mode: string, extra: Partial<AgentCommand> = {}): AgentCommand {
  return {
    command: FAKE_AGENT,
    args: ['--print'],
    env: { FAKE_AGENT_MODE: mode, FAKE_AGENT_RECORD: record },
    ...extra,
  };
}

function records(): Array<{ argv: string[]; prompt: string; kind: string; pid: number }> {
  return readFileSync(record, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('agent skill files', () => {
  it('parses frontmatter: name, kinds with ranges, description, timeout; the body is the prompt', () => {
    const f = parseAgentSkillFile(FILE, '/x/note-reviewer.md');
    expect(f).toMatchObject({
      name: 'note-reviewer',
      kinds: [1, 5000, 5001, 5002],
      description: 'Reviews notes',
      timeoutMs: 20_000,
    });
    expect(f.body).toBe('You review notes. Reply with JSON.');
    expect(parseAgentSkillFile('---\nkinds: [7]\n---\nhi', '/d/from-file-name.md').name).toBe(
      'from-file-name',
    );
  });

  it('says what is wrong with a bad file', () => {
    expect(() => parseAgentSkillFile('no frontmatter', '/a.md')).toThrow(/no frontmatter/);
    expect(() => parseAgentSkillFile('---\nname: x\n---\n', '/a.md')).toThrow(/needs kinds/);
    expect(() => parseAgentSkillFile('---\nkinds: [1]\ntimeout: soon\n---\n', '/a.md')).toThrow(
      /timeout "soon"/,
    );
    expect(() => parseAgentSkillFile('---\nkinds: [one]\n---\n', '/a.md')).toThrow(/"one"/);
  });

  it('sends body + fenced TOON on stdin to a real executable and takes its JSON stdout as the result', async () => {
    const skill = agentSkill(parseAgentSkillFile(FILE, '/x/note-reviewer.md'), agent('json'));
    const payload = buildSignedToonEvent({ kind: 1, tags: [], content: 'hello agent' });
    const pipeline = new SkillPipeline({ registry: new SkillRegistry([skill]), context: testContext() });
    const d = await pipeline.dispatch(payload);
    expect(d.outcome.status).toBe('handled');
    expect(d.outcome.result).toMatchObject({ summary: 'agent saw kind 1', data: { toonLines: 7 } });
    const [got] = records();
    expect(got?.argv).toEqual(['--print']);
    expect(got?.kind).toBe('1');
    expect(got?.prompt).toBe(
      `You review notes. Reply with JSON.\n\n\`\`\`toon\n${new TextDecoder().decode(payload)}\n\`\`\`\n`,
    );
  });

  it('can pass the prompt as the last argument; plain-text output becomes a handled result', async () => {
    const skill = agentSkill(
      parseAgentSkillFile(FILE, '/x/n.md'),
      agent('text', {
        input: 'argument',
        env: { FAKE_AGENT_MODE: 'text', FAKE_AGENT_RECORD: record, FAKE_AGENT_INPUT: 'argument' },
      }),
    );
    const pipeline = new SkillPipeline({ registry: new SkillRegistry([skill]), context: testContext() });
    const d = await pipeline.dispatch(buildSignedToonEvent({ kind: 5001, tags: [], content: 'x' }));
    expect(d.outcome.result).toMatchObject({
      status: 'handled',
      summary: 'Reviewed kind 5001.',
      data: { output: 'Reviewed kind 5001.\nAll good.' },
    });
    expect(records()[0]?.argv[0]).toBe('--print');
    expect(records()[0]?.argv[1]).toContain('```toon\n');
  });

  it('a failing agent is a retryable failure with its stderr; a hanging one is killed at the timeout', async () => {
    const payload = buildSignedToonEvent({ kind: 1, tags: [], content: 'x' });
    const failing = agentSkill(parseAgentSkillFile(FILE, '/x/n.md'), agent('fail'));
    const p1 = new SkillPipeline({ registry: new SkillRegistry([failing]), context: testContext() });
    const d1 = await p1.dispatch(payload);
    expect(d1.outcome).toMatchObject({ status: 'failed', retryable: true });
    expect(d1.outcome.result.summary).toMatch(/exited with 3: model overloaded/);

    // Long enough for the fake agent (a node process) to start and record itself on a loaded machine.
    const hanging = agentSkill({ ...parseAgentSkillFile(FILE, '/x/n.md'), timeoutMs: 3000 }, agent('hang'));
    const p2 = new SkillPipeline({ registry: new SkillRegistry([hanging]), context: testContext() });
    const d2 = await p2.dispatch(payload);
    expect(d2.outcome.status).toBe('failed');
    expect(d2.outcome.result.summary).toMatch(/no answer within 3000 ms/);
    const pid = Number(records().at(-1)!.pid);
    expect(records()).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(() => process.kill(pid, 0)).toThrow(); // the agent process is gone
  });

  it('a missing agent command is a clear failure, not a crash', async () => {
    const skill = agentSkill(parseAgentSkillFile(FILE, '/x/n.md'), { command: join(dir, 'no-such-agent') });
    const p = new SkillPipeline({ registry: new SkillRegistry([skill]), context: testContext() });
    const d = await p.dispatch(buildSignedToonEvent({ kind: 1, tags: [], content: 'x' }));
    expect(d.outcome.result.summary).toMatch(/could not start agent/);
  });

  it('are discovered from a directory with no code change', async () => {
    const agentDir = join(dir, '.claude', 'skills');
    await import('node:fs/promises').then((fs) => fs.mkdir(agentDir, { recursive: true }));
    await writeFile(join(agentDir, 'note-reviewer.md'), FILE);
    await writeFile(join(agentDir, 'broken.md'), 'no frontmatter here');
    const report = await loadSkills({ agentDir, agent: agent('json'), context: testContext() });
    expect(report.skills.map((s) => s.name)).toEqual(['note-reviewer']);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.source).toMatch(/broken\.md$/);
  });

  it('agentOutputToResult keeps only valid fields of a JSON result', () => {
    expect(agentOutputToResult('{"status":"failed","retry":false,"summary":"no"}')).toEqual({
      status: 'failed',
      retry: false,
      summary: 'no',
    });
    expect(agentOutputToResult('[1,2]')).toEqual({ status: 'handled', data: { output: [1, 2] } });
    expect(agentOutputToResult('{"status":"weird"}')).toEqual({
      status: 'handled',
      data: { output: { status: 'weird' } },
    });
  });
});
