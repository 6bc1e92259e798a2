package dev.lora4j.kernels;

import java.util.Locale;

/** What the GEMM chose on this machine (register tile and block sizes), for benchmark and log lines. */
public final class GemmConfig {
    private GemmConfig() {}

    /** The register tile as rows of A x vectors of B, e.g. "12x2". */
    public static String tile() {
        return MicroKernel.shapeName();
    }

    /** e.g. "tile 12x2 (MR=12, NR=32), KC=512, MC=192, NC=4096". */
    public static String describe() {
        return "tile " + MicroKernel.shapeName() + " (MR=" + Gemm.MR + ", NR=" + Gemm.NR + "), KC=" + Gemm.KC
                + ", MC=" + Gemm.MC + ", NC=" + Gemm.NC + (Gemm.A_PANEL_OUTER ? ", A micro-panel outer" : "");
    }

    /** With -Dlora4j.gemm.profile=true: seconds spent packing and computing so far, else "". */
    public static String profile() {
        return Gemm.PROFILE ? String.format(Locale.ROOT, "pack %.3f s, compute %.3f s",
                Gemm.PACK_NANOS.sum() * 1e-9, Gemm.COMPUTE_NANOS.sum() * 1e-9) : "";
    }
}
