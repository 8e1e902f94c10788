/**
 * `tusk controller` with the runtime's own observe-only setup (no reconciler): what the
 * runtime's process tests and benchmark compile, so they measure the machinery alone.
 */
import { Command } from "@effect/cli"
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Effect } from "effect"
import * as ControllerCommand from "../../src/controller/command.ts"

const root = Command.make("tusk").pipe(Command.withSubcommands([ControllerCommand.controllerCommand]))
Command.run(root, { name: "tusk", version: "test" })(process.argv).pipe(Effect.provide(BunContext.layer), BunRuntime.runMain)
