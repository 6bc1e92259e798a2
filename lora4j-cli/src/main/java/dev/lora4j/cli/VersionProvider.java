package dev.lora4j.cli;

import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"lora4j " + (v != null ? v : "0.1.0-SNAPSHOT") + " on Java " + Runtime.version()};
    }
}
