// `crosstown completion bash|zsh|fish|powershell`: prints a completion script for the whole command tree.
import type { Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import { CliError, ExitCode } from '../output.js';
import { helpExamples, run } from './common.js';

export function registerCompletion(program: Command): void {
  helpExamples(
    program
      .command('completion')
      .description('Print a shell completion script')
      .argument('<shell>', SHELLS.join(' | '))
      .option('-y, --yes', 'non-interactive (this command never prompts)', false),
    [
      'source <(crosstown completion bash)                       # add to ~/.bashrc',
      'autoload -U compinit && compinit && source <(crosstown completion zsh)   # ~/.zshrc',
      'crosstown completion fish > ~/.config/fish/completions/crosstown.fish',
      'crosstown completion powershell | Out-String | Invoke-Expression        # $PROFILE',
    ],
  ).action(
    run(async (shell: string, _o: unknown, cmd: Command) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new CliError(`unknown shell "${shell}": use one of ${SHELLS.join(', ')}`, ExitCode.Usage);
      }
      let root = cmd;
      while (root.parent) root = root.parent;
      process.stdout.write(completionScript(root, shell as Shell));
    }),
  );
}
