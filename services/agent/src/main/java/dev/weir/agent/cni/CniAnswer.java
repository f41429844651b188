package dev.weir.agent.cni;

import java.nio.charset.StandardCharsets;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** What weir-cni prints and exits with: a result (exit 0) or a CNI error (exit 1). */
public record CniAnswer(int exitCode, byte[] stdout) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    // The spec's well-known error codes.
    public static final int INCOMPATIBLE_VERSION = 1;
    public static final int UNKNOWN_CONTAINER = 3;
    public static final int INVALID_ENVIRONMENT = 4;
    public static final int IO_FAILURE = 5;
    public static final int DECODE_FAILURE = 6;
    public static final int INVALID_CONFIG = 7;
    public static final int TRY_AGAIN_LATER = 11;
    public static final int NOT_AVAILABLE = 50;
    /** Weir's own: the datapath could not be attached, or is not attached (CHECK). */
    public static final int DATAPATH_FAILURE = 100;

    public static CniAnswer ok() {
        return new CniAnswer(0, new byte[0]);
    }

    public static CniAnswer result(ObjectNode result) {
        return new CniAnswer(0, (JSON.writeValueAsString(result) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public static CniAnswer error(String cniVersion, int code, String msg) {
        ObjectNode error = JSON.createObjectNode();
        error.put("cniVersion", cniVersion == null ? "1.0.0" : cniVersion);
        error.put("code", code);
        error.put("msg", msg);
        return new CniAnswer(1, (JSON.writeValueAsString(error) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The wire form weir-cni reads: the exit code on a line, then stdout. */
    byte[] wire() {
        byte[] out = new byte[stdout.length + 2];
        out[0] = (byte) ('0' + exitCode);
        out[1] = '\n';
        System.arraycopy(stdout, 0, out, 2, stdout.length);
        return out;
    }
}
