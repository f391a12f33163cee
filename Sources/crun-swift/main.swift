import CrunCLI
import Glibc

exit(CrunSwiftMain.main(CommandLine.arguments))
