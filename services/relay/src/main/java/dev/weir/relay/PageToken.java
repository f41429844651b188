package dev.weir.relay;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Where the next page of a flows query starts, opaque to clients: the time of the page's edge
 * flow (the oldest of a "last" page, the newest of a "first" page) and the uuids of the page's
 * flows at exactly that time, which the next page leaves out; and the range's other end as the
 * first page resolved it (until of a "first" query, since of a "last" one), so that "10m" or
 * "now" does not slide while the pages are read.
 */
record PageToken(boolean first, Instant edge, List<String> seen, Instant bound) {

    String encode() {
        String raw = (first ? "F" : "L") + "|" + edge.getEpochSecond() + "|" + edge.getNano() + "|" + String.join(",", seen)
                + "|" + bound.getEpochSecond() + "|" + bound.getNano();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static PageToken decode(String token) {
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\\|", -1);
            if (parts.length != 6 || !(parts[0].equals("F") || parts[0].equals("L"))) {
                throw new IllegalArgumentException("malformed");
            }
            List<String> seen = parts[3].isEmpty() ? List.of() : List.of(parts[3].split(","));
            return new PageToken(parts[0].equals("F"), Instant.ofEpochSecond(Long.parseLong(parts[1]), Long.parseLong(parts[2])),
                    new ArrayList<>(seen), Instant.ofEpochSecond(Long.parseLong(parts[4]), Long.parseLong(parts[5])));
        } catch (IllegalArgumentException e) {
            throw new BadRequest("page", "not a page token this relay issued");
        }
    }
}
