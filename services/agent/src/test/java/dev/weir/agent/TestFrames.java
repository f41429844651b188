package dev.weir.agent;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Ethernet frames built in memory, for running the datapath with BPF_PROG_RUN. */
public final class TestFrames {

    private TestFrames() {
    }

    /** An Ethernet + IPv4 + UDP frame with a payload of the given size. */
    public static ByteBuffer udp(String source, String destination, int sourcePort, int destinationPort, int payload)
            throws Exception {
        ByteBuffer frame = ByteBuffer.allocateDirect(14 + 20 + 8 + payload).order(ByteOrder.BIG_ENDIAN);
        frame.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) (20 + 8 + payload)).putInt(0)
                .put((byte) 64).put((byte) 17).putShort((short) 0)
                .put(InetAddress.getByName(source).getAddress()).put(InetAddress.getByName(destination).getAddress());
        frame.putShort((short) sourcePort).putShort((short) destinationPort).putShort((short) (8 + payload)).putShort((short) 0);
        return frame.clear();
    }
}
