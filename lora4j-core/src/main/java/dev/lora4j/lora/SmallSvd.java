package dev.lora4j.lora;

/**
 * Singular value decompositions for the small matrices of adapter combination, in double.
 *
 * <p>{@link #jacobi} is one-sided Jacobi (Hestenes): it rotates pairs of columns of A until all are
 * mutually orthogonal, accumulating the rotations in V; then A·V = U·Σ with the column norms as
 * singular values. It is simple, accurate for small matrices and deterministic (fixed sweep order).
 *
 * <p>{@link #truncatedProduct} finds the top singular triplets of a low-rank product {@code L·R}
 * ([m, k]·[k, n], k small) without forming it: with thin QR factorizations {@code L = Q_l·R_l} and
 * {@code Rᵀ = Q_r·R_r}, {@code L·R = Q_l·(R_l·R_rᵀ)·Q_rᵀ}, so the SVD of the k×k core gives that of the
 * product. Cost O((m + n)·k²) instead of O(m·n·min(m, n)).
 */
public final class SmallSvd {
    private SmallSvd() {}

    /** A = U·diag(s)·Vᵀ; U [m, n] column-major in rows of length n (row-major [m, n]), V [n, n] row-major. */
    public record Svd(double[] u, double[] s, double[] v, int m, int n) {}

    private static final int MAX_SWEEPS = 60;

    /** Thin SVD of a row-major [m, n] matrix with m ≥ n; singular values in descending order. */
    public static Svd jacobi(double[] a, int m, int n) {
        if (m < n) {
            throw new IllegalArgumentException("jacobi needs rows >= columns, got " + m + "x" + n);
        }
        double[] w = a.clone();
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) {
            v[i * n + i] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double alpha = 0;
                    double beta = 0;
                    double gamma = 0;
                    for (int i = 0; i < m; i++) {
                        double wp = w[i * n + p];
                        double wq = w[i * n + q];
                        alpha += wp * wp;
                        beta += wq * wq;
                        gamma += wp * wq;
                    }
                    if (gamma == 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) {
                        continue;
                    }
                    rotated = true;
                    // The rotation that zeroes the (p, q) entry of the 2x2 Gram matrix [[alpha, gamma], [gamma, beta]].
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta == 0 ? 1 : zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    double c = 1 / Math.sqrt(1 + t * t);
                    double s = c * t;
                    rotate(w, m, n, p, q, c, s);
                    rotate(v, n, n, p, q, c, s);
                }
            }
            if (!rotated) {
                break;
            }
        }
        // Singular values are the column norms; sort descending (stable, so ties keep column order).
        double[] norms = new double[n];
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int i = 0; i < m; i++) {
                sum += w[i * n + j] * w[i * n + j];
            }
            norms[j] = Math.sqrt(sum);
        }
        Integer[] order = new Integer[n];
        for (int j = 0; j < n; j++) {
            order[j] = j;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(norms[y], norms[x]));
        double[] u = new double[m * n];
        double[] s = new double[n];
        double[] vs = new double[n * n];
        for (int jj = 0; jj < n; jj++) {
            int j = order[jj];
            s[jj] = norms[j];
            for (int i = 0; i < m; i++) {
                u[i * n + jj] = norms[j] == 0 ? 0 : w[i * n + j] / norms[j];
            }
            for (int i = 0; i < n; i++) {
                vs[i * n + jj] = v[i * n + j];
            }
        }
        return new Svd(u, s, vs, m, n);
    }

    /** Columns p and q of row-major [rows, n] x become c·x_p − s·x_q and s·x_p + c·x_q. */
    private static void rotate(double[] x, int rows, int n, int p, int q, double c, double s) {
        for (int i = 0; i < rows; i++) {
            double xp = x[i * n + p];
            double xq = x[i * n + q];
            x[i * n + p] = c * xp - s * xq;
            x[i * n + q] = s * xp + c * xq;
        }
    }

    /** Top-{@code rank} factors of a product: {@code L·R ≈ B·A} with B = U_r·Σ_r [m, rank] and A = V_rᵀ [rank, n]. */
    public record Factors(double[] b, double[] a, double[] singularValues, int m, int n, int rank) {}

    /**
     * Truncated SVD of {@code L·R}, L row-major [m, k], R row-major [k, n]. When {@code rank} exceeds
     * k the extra singular values are zero and their factor rows/columns are zero.
     */
    public static Factors truncatedProduct(double[] l, double[] r, int m, int k, int n, int rank) {
        double[] rt = transpose(r, k, n);  // [n, k]
        double[][] ql = thinQr(l, m, k);    // {Q [m, k], R [k, k]}
        double[][] qr = thinQr(rt, n, k);
        double[] core = multiplyTransposed(ql[1], qr[1], k);  // R_l · R_rᵀ, [k, k]
        Svd svd = jacobi(core, k, k);
        double[] b = new double[m * rank];
        double[] a = new double[rank * n];
        double[] sv = new double[rank];
        int kept = Math.min(rank, k);
        for (int j = 0; j < kept; j++) {
            sv[j] = svd.s()[j];
            for (int i = 0; i < m; i++) {  // column j of Q_l·U, scaled by σ_j
                double sum = 0;
                for (int t = 0; t < k; t++) {
                    sum += ql[0][i * k + t] * svd.u()[t * k + j];
                }
                b[i * rank + j] = sum * sv[j];
            }
            for (int i = 0; i < n; i++) {  // row j of (Q_r·V)ᵀ
                double sum = 0;
                for (int t = 0; t < k; t++) {
                    sum += qr[0][i * k + t] * svd.v()[t * k + j];
                }
                a[j * n + i] = sum;
            }
        }
        return new Factors(b, a, sv, m, n, rank);
    }

    /**
     * Thin QR of row-major [m, k] by modified Gram-Schmidt with one re-orthogonalization pass ("twice is
     * enough"). A column that is (numerically) a combination of the previous ones gets a zero Q column
     * and a zero R diagonal, which keeps {@code Q·R} equal to the input.
     */
    static double[][] thinQr(double[] x, int m, int k) {
        double[] q = x.clone();
        double[] rr = new double[k * k];
        double scale = 0;
        for (double e : x) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int j = 0; j < k; j++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < m; i++) {
                        dot += q[i * k + p] * q[i * k + j];
                    }
                    rr[p * k + j] += dot;
                    for (int i = 0; i < m; i++) {
                        q[i * k + j] -= dot * q[i * k + p];
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < m; i++) {
                norm += q[i * k + j] * q[i * k + j];
            }
            norm = Math.sqrt(norm);
            if (norm <= 1e-13 * scale * Math.sqrt(m)) {
                for (int i = 0; i < m; i++) {
                    q[i * k + j] = 0;
                }
                continue;
            }
            rr[j * k + j] = norm;
            for (int i = 0; i < m; i++) {
                q[i * k + j] /= norm;
            }
        }
        return new double[][] {q, rr};
    }

    private static double[] transpose(double[] x, int rows, int cols) {
        double[] t = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = x[i * cols + j];
            }
        }
        return t;
    }

    /** x·yᵀ for row-major k×k matrices. */
    private static double[] multiplyTransposed(double[] x, double[] y, int k) {
        double[] out = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                double sum = 0;
                for (int t = 0; t < k; t++) {
                    sum += x[i * k + t] * y[j * k + t];
                }
                out[i * k + j] = sum;
            }
        }
        return out;
    }
}
