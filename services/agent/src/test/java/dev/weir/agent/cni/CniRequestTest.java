package dev.weir.agent.cni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CniRequestTest {

    static byte[] wire(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theWireFormCarriesTheVariablesAndTheConfiguration() {
        CniRequest request = CniRequest.parse(wire("WEIR-CNI 1\nCNI_COMMAND=ADD\nCNI_CONTAINERID=abc\nCNI_NETNS=/run/netns/x\n"
                + "CNI_IFNAME=eth0\nCNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart-7d9\n"
                + "CNI_PATH=/opt/cni/bin\n\n{\"cniVersion\":\"1.0.0\"}"));
        assertThat(request.command()).isEqualTo("ADD");
        assertThat(request.containerId()).isEqualTo("abc");
        assertThat(request.args()).containsEntry("K8S_POD_NAMESPACE", "shop").containsEntry("K8S_POD_NAME", "cart-7d9");
        assertThat(new String(request.config(), StandardCharsets.UTF_8)).isEqualTo("{\"cniVersion\":\"1.0.0\"}");
        assertThat(request.environment("DEL")).containsEntry("CNI_COMMAND", "DEL").containsEntry("CNI_NETNS", "/run/netns/x");
    }

    @Test
    void somethingElseIsRefusedWithTheReason() {
        assertThatThrownBy(() -> CniRequest.parse(wire("GET / HTTP/1.1\n\n"))).hasMessageContaining("not a weir-cni request");
        assertThatThrownBy(() -> CniRequest.parse(wire("WEIR-CNI 1\nCNI_COMMAND=ADD"))).hasMessageContaining("no end");
        assertThatThrownBy(() -> CniRequest.parse(wire("WEIR-CNI 1\nnot a variable\n\n"))).hasMessageContaining("malformed");
        byte[] header = wire("WEIR-CNI 1\n");
        byte[] endless = new byte[CniRequest.MAX_HEADER + 16];
        System.arraycopy(header, 0, endless, 0, header.length);
        java.util.Arrays.fill(endless, header.length, endless.length, (byte) 'A');
        assertThatThrownBy(() -> CniRequest.parse(endless)).hasMessageContaining("no end");
    }
}
