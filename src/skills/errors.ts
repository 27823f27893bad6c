/**
 * Why the skills system refused something:
 * - `invalid_skill`: an object that does not implement the Skill interface (name, kinds, handleToon).
 * - `kind_conflict`: two skills claim the same kind at the same priority.
 * - `duplicate_name`: two skills share a name (names key correlations and retries, so they must be unique).
 * - `load_failed`: a skill file or package could not be imported or did not export a skill.
 * - `invalid_agent_file`: an agent skill file (`.claude/skills/*.md`) has bad or missing frontmatter.
 * - `scaffold_failed`: `scaffoldSkill` could not write the new skill.
 */
export type SkillErrorCode =
  | 'invalid_skill'
  | 'kind_conflict'
  | 'duplicate_name'
  | 'load_failed'
  | 'invalid_agent_file'
  | 'scaffold_failed';

export class SkillError extends Error {
  readonly code: SkillErrorCode;

  constructor(code: SkillErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SkillError';
    this.code = code;
  }
}
