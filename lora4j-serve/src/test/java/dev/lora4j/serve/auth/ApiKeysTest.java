package dev.lora4j.serve.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The keys file: tenants, admin, and errors that name the line but never the key. */
class ApiKeysTest {
    @Test
    void keysMapToTheirTenants() {
        ApiKeys keys = ApiKeys.parse(List.of("# keys", "", "aaaaaaaaaaaaaaaa1 * admin", "bbbbbbbbbbbbbbbb2 x,y", "  cccccccccccccccc3   -  "), "k");
        Caller admin = keys.caller("aaaaaaaaaaaaaaaa1").orElseThrow();
        assertThat(admin.admin()).isTrue();
        assertThat(admin.mayUse("anything")).isTrue();
        Caller tenant = keys.caller("bbbbbbbbbbbbbbbb2").orElseThrow();
        assertThat(tenant.admin()).isFalse();
        assertThat(tenant.mayUse("x")).isTrue();
        assertThat(tenant.mayUse("z")).isFalse();
        assertThat(keys.caller("cccccccccccccccc3").orElseThrow().mayUse("x")).isFalse();
        assertThat(keys.caller("bbbbbbbbbbbbbbbb")).isEmpty();
        assertThat(keys.caller("")).isEmpty();
        assertThat(tenant.label()).isEqualTo("k line 4").doesNotContain("bbbb");
    }

    @Test
    void badLinesNameTheLineAndNeverTheKey() {
        String secret = "s3cr3t-s3cr3t-s3cr3t";
        assertThatThrownBy(() -> ApiKeys.parse(List.of(secret), "keys.txt"))
                .hasMessage("keys.txt line 1: expected KEY ADAPTERS [admin] (ADAPTERS: *, - or a,b,c), got 1 field");
        assertThatThrownBy(() -> ApiKeys.parse(List.of("short *"), "keys.txt")).hasMessageContaining("line 1: the key is 5 characters");
        assertThatThrownBy(() -> ApiKeys.parse(List.of(secret + " * root"), "keys.txt"))
                .hasMessageContaining("third field may only be \"admin\"").message().doesNotContain(secret);
        assertThatThrownBy(() -> ApiKeys.parse(List.of(secret + " a/b"), "keys.txt"))
                .hasMessageContaining("\"a/b\" is not an adapter name").message().doesNotContain(secret);
        assertThatThrownBy(() -> ApiKeys.parse(List.of(secret + " *", "# x", secret + " -"), "keys.txt"))
                .hasMessage("keys.txt line 3: the same key is listed twice");
        assertThatThrownBy(() -> ApiKeys.parse(List.of("# nothing"), "keys.txt")).hasMessageContaining("no API keys");
    }
}
