/** The `trm` command line. */
import { Command } from 'commander';
import { TrmError } from '../errors';
import { adaptCommand } from './adapt';
import { buildDataCommand } from './build-data';
import { evalCommand } from './eval';
import { forwardCommand } from './forward';
import { inspectCommand } from './inspect';
import { serveCommand } from './serve';
import { solveCommand } from './solve';
import { trainCommand } from './train';

export function program(): Command {
  const p = new Command('trm').description('Tiny Recursive Models on LibTorch').showHelpAfterError();
  p.addCommand(inspectCommand());
  p.addCommand(forwardCommand());
  p.addCommand(trainCommand());
  p.addCommand(buildDataCommand());
  p.addCommand(evalCommand());
  p.addCommand(solveCommand());
  p.addCommand(serveCommand());
  p.addCommand(adaptCommand());
  return p;
}

/** Runs the CLI; a TrmError prints as `error [CODE]: message` with exit code 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof TrmError) {
      console.error(`error [${e.code}]: ${e.message}`);
    } else {
      console.error(`error: ${(e as Error).stack ?? e}`);
    }
    process.exitCode = 1;
  }
}
