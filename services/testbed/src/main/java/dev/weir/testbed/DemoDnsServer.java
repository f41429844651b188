package dev.weir.testbed;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The cluster DNS of the demo and the tests, run inside a pod's network namespace: answers A
 * queries for the names it is given, NOERROR without answers for other types of those names,
 * and NXDOMAIN for everything else, as CoreDNS answers the search-path candidates of a name.
 * It can misbehave as resolvers do under load: {@code --refuse-above=N} answers at most N queries
 * a second per client and REFUSED the rest (a response rate limit), {@code --drop=AAAA} never
 * answers queries of that type (a resolver or firewall that drops them), {@code --drop=AAAA/3}
 * leaves every third of them unanswered (what the A/AAAA conntrack race looks like from the
 * client: one half of a pair lost now and then).
 *
 * <p>usage: DemoDnsServer &lt;listen address&gt; [--refuse-above=N] [--drop=TYPE[/N]] &lt;name=address&gt;...
 */
public final class DemoDnsServer {

    private final Map<String, InetAddress> records;
    private int refuseAbove = Integer.MAX_VALUE;
    private int dropType = -1;
    /** Every dropEvery-th query of the dropped type goes unanswered (1: all of them). */
    private int dropEvery = 1;
    private long ofDropType;
    private final Map<InetAddress, long[]> perClientSecond = new HashMap<>();

    public DemoDnsServer(Map<String, InetAddress> records) {
        this.records = records;
    }

    public static void main(String[] args) throws IOException {
        Map<String, InetAddress> records = new HashMap<>();
        int refuseAbove = Integer.MAX_VALUE;
        int dropType = -1;
        int dropEvery = 1;
        for (int i = 1; i < args.length; i++) {
            if (args[i].startsWith("--refuse-above=")) {
                refuseAbove = Integer.parseInt(args[i].substring("--refuse-above=".length()));
                continue;
            }
            if (args[i].startsWith("--drop=")) {
                String[] drop = args[i].substring("--drop=".length()).split("/", 2);
                dropType = Type.value(drop[0]);
                dropEvery = drop.length > 1 ? Integer.parseInt(drop[1]) : 1;
                continue;
            }
            String[] pair = args[i].split("=", 2);
            String name = pair[0].toLowerCase(Locale.ROOT);
            records.put(name.endsWith(".") ? name : name + ".", InetAddress.getByName(pair[1]));
        }
        DemoDnsServer server = new DemoDnsServer(records);
        server.refuseAbove = refuseAbove;
        server.dropType = dropType;
        server.dropEvery = dropEvery;
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(args[0]), 53))) {
            server.warmUp();
            System.out.println("dns: serving " + records.size() + " names on " + args[0] + ":53");
            System.out.flush();
            byte[] buffer = new byte[4096];
            while (true) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                byte[] answer = server.answer(java.util.Arrays.copyOf(packet.getData(), packet.getLength()),
                        packet.getAddress(), System.currentTimeMillis());
                if (answer != null) {
                    socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
                }
            }
        }
    }

    /**
     * Answers a query of each kind once before the server says it serves: the first answer of a
     * cold JVM loads the DNS library's classes, which on a busy node can take longer than a pod
     * resolver's timeout, and that lookup would then fail for a reason no real resolver has.
     */
    void warmUp() throws IOException {
        for (String name : new String[] {"warm-up.invalid.", records.keySet().stream().findFirst().orElse("warm-up.")}) {
            for (int type : new int[] {Type.A, Type.AAAA}) {
                Message query = Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN));
                if (answer(query.toWire(), null, 0) == null && type != dropType) {
                    throw new IllegalStateException("the server does not answer its own warm-up query");
                }
            }
        }
    }

    /** The response to a query, or null for something that is not one. */
    public byte[] answer(byte[] query) {
        return answer(query, null, 0);
    }

    /** The response to a client's query at a time, or null for none (not a query, or one this server drops). */
    public byte[] answer(byte[] query, InetAddress client, long nowMs) {
        Message request;
        try {
            request = new Message(query);
        } catch (IOException e) {
            return null;
        }
        Record question = request.getQuestion();
        if (question == null || request.getHeader().getFlag(Flags.QR)) {
            return null;
        }
        if (question.getType() == dropType && ++ofDropType % dropEvery == 0) {
            return null;
        }
        boolean refused = client != null && overLimit(client, nowMs);
        Message response = new Message(request.getHeader().getID());
        response.getHeader().setFlag(Flags.QR);
        response.getHeader().setFlag(Flags.AA);
        response.getHeader().setFlag(Flags.RA);
        if (request.getHeader().getFlag(Flags.RD)) {
            response.getHeader().setFlag(Flags.RD);
        }
        response.addRecord(question, Section.QUESTION);
        Name name = question.getName();
        InetAddress address = records.get(name.toString().toLowerCase(Locale.ROOT));
        if (refused) {
            response.getHeader().setRcode(Rcode.REFUSED);
        } else if (address == null) {
            response.getHeader().setRcode(Rcode.NXDOMAIN);
        } else if (question.getType() == Type.A) {
            response.addRecord(new ARecord(name, DClass.IN, 30, address), Section.ANSWER);
        }
        return response.toWire();
    }

    /** Counts the client's query in the current second; whether it is one too many. */
    private boolean overLimit(InetAddress client, long nowMs) {
        long[] second = perClientSecond.computeIfAbsent(client, c -> new long[2]);
        long now = nowMs / 1000;
        if (second[0] != now) {
            second[0] = now;
            second[1] = 0;
        }
        return ++second[1] > refuseAbove;
    }
}
