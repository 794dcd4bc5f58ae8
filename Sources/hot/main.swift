#if canImport(Glibc)
import Glibc
#endif

// Thin on purpose: parse the command name, hand over, map errors to the
// statuses of the CLI contract.
exit(HotCLI.run(Array(CommandLine.arguments.dropFirst())))
