package dev.weir.alerting.api;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import dev.weir.api.alerting.AlertView;
import dev.weir.api.alerting.SilenceRequest;
import dev.weir.api.alerting.SilenceView;
import dev.weir.common.web.ApiProblems;
import dev.weir.alerting.AlertingEngine;
import dev.weir.alerting.AlertingProperties;
import dev.weir.alerting.delivery.AddressGuard;
import dev.weir.alerting.delivery.AlertingStore;
import dev.weir.alerting.delivery.Outbox;
import dev.weir.alerting.delivery.Signatures;
import dev.weir.alerting.eval.Alert;
import dev.weir.alerting.notify.Inhibition;
import dev.weir.alerting.notify.Matcher;
import dev.weir.alerting.notify.Receiver;
import dev.weir.alerting.notify.Silence;
import dev.weir.alerting.rules.InvalidRule;
import dev.weir.alerting.rules.Rule;
import dev.weir.alerting.rules.RuleParser;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The alerting REST API (/api/v1/alerting): rules (YAML or JSON, validated, 400 naming the field),
 * alerts with their silences, silences, inhibitions, receivers (the signing secret shown once) and
 * the outbox's deliveries.
 */
@RestController
@RequestMapping("/api/v1/alerting")
public class AlertingController {

    private final AlertingEngine engine;
    private final AlertingStore store;
    private final Outbox outbox;
    private final AddressGuard guard;

    public AlertingController(AlertingEngine engine, AlertingStore store, Outbox outbox, AlertingProperties properties) {
        this.engine = engine;
        this.store = store;
        this.outbox = outbox;
        this.guard = properties.addressGuard();
    }

    public record RuleView(String name, String source, Rule rule) {
    }

    @Operation(summary = "The alert rules: the built-in ones and those applied")
    @GetMapping("/rules")
    public List<RuleView> rules() {
        List<RuleView> views = new ArrayList<>();
        Map<String, String> stored = store.rules();
        for (Rule rule : engine.activeRules()) {
            views.add(new RuleView(rule.name(), stored.containsKey(rule.name()) ? "api" : "builtin", rule));
        }
        return views;
    }

    /** Adds or replaces rules (all of the body, or none); ?dryRun=true only validates. */
    @Operation(summary = "Add or replace alert rules, all of the body or none (YAML or JSON)")
    @PostMapping(path = "/rules", consumes = {"application/yaml", "application/x-yaml", "application/json", "text/plain"})
    public List<String> applyRules(@RequestBody String body, @Parameter(description = "true: validate only, apply nothing.") @RequestParam(defaultValue = "false") boolean dryRun) {
        List<Rule> rules = RuleParser.parse(body);
        if (rules.size() > MAX_RULES_PER_REQUEST) {
            throw new InvalidRule("rules", rules.size() + " rules in one request, at most " + MAX_RULES_PER_REQUEST);
        }
        if (!dryRun) {
            Map<String, String> documents = RuleYaml.each(body);
            for (Rule rule : rules) {
                store.saveRule(rule.name(), documents.get(rule.name()));
            }
            engine.reload();
        }
        return rules.stream().map(Rule::name).toList();
    }

    @Operation(summary = "Delete an applied alert rule")
    @DeleteMapping("/rules/{name}")
    public ResponseEntity<Void> deleteRule(@Parameter(description = "The rule's name.") @PathVariable String name) {
        if (!store.deleteRule(name)) {
            return ResponseEntity.notFound().build();
        }
        engine.reload();
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "The alerts: firing, pending and recently resolved")
    @GetMapping("/alerts")
    public List<AlertView> alerts(@Parameter(description = "firing, pending or resolved; all when absent.") @RequestParam(required = false) String state) {
        List<Alert> alerts = engine.evaluator().alerts();
        Map<String, List<String>> silenced = engine.notifier().silencedBy(alerts, System.currentTimeMillis());
        return alerts.stream()
                .filter(a -> state == null || a.status().name().equalsIgnoreCase(state))
                .map(a -> new AlertView(a.fingerprint(), a.rule(), a.status().name().toLowerCase(java.util.Locale.ROOT),
                        a.labels(), a.annotations(), Instant.ofEpochMilli(a.startsAtMs()), a.value(),
                        silenced.getOrDefault(a.fingerprint(), List.of())))
                .toList();
    }

    /** A silence hides alerts: it always ends, and not in a hundred years. */
    static final java.time.Duration MAX_SILENCE = java.time.Duration.ofDays(90);
    static final int MAX_SILENCE_MATCHERS = 32;
    static final int MAX_TEXT = 4096;
    static final int MAX_RULES_PER_REQUEST = 500;

    @Operation(summary = "The silences in force or to come")
    @GetMapping("/silences")
    public List<SilenceView> silences() {
        return store.silences().stream().map(AlertingController::view).toList();
    }

    /** A silence as the API shows it: matchers as they are written (name=value, name=~regex). */
    static SilenceView view(Silence silence) {
        return new SilenceView(silence.id(), silence.matchers().stream().map(Matcher::toString).toList(),
                silence.startsAt(), silence.endsAt(), silence.createdBy(), silence.comment());
    }

    @Operation(summary = "Create a silence: alerts matching all its matchers are not sent until it ends")
    @PostMapping("/silences")
    public SilenceView silence(@RequestBody SilenceRequest request,
            java.security.Principal author) {
        if (request.matchers() == null || request.matchers().isEmpty()) {
            throw new InvalidRule("matchers", "at least one matcher is required");
        }
        if (request.matchers().size() > MAX_SILENCE_MATCHERS) {
            throw new InvalidRule("matchers", "at most " + MAX_SILENCE_MATCHERS + " matchers");
        }
        if (request.comment() != null && request.comment().length() > MAX_TEXT) {
            throw new InvalidRule("comment", "at most " + MAX_TEXT + " characters");
        }
        if (request.createdBy() != null && request.createdBy().length() > 256) {
            throw new InvalidRule("createdBy", "at most 256 characters");
        }
        List<Matcher> matchers = request.matchers().stream().map(Matcher::parse).toList();
        Instant starts = request.startsAt() == null ? Instant.now() : instant("startsAt", request.startsAt());
        Instant ends;
        if (request.endsAt() != null) {
            ends = instant("endsAt", request.endsAt());
        } else if (request.duration() != null) {
            ends = starts.plus(duration("duration", request.duration()));
        } else {
            throw new InvalidRule("endsAt", "endsAt or duration is required: a silence expires");
        }
        if (!ends.isAfter(starts)) {
            throw new InvalidRule("endsAt", "must be after startsAt");
        }
        if (java.time.Duration.between(starts, ends).compareTo(MAX_SILENCE) > 0) {
            throw new InvalidRule(request.endsAt() != null ? "endsAt" : "duration", "a silence lasts at most "
                    + MAX_SILENCE.toDays() + " days; make a new one when it ends, or fix the rule");
        }
        // Who silences is who the token belongs to; a createdBy the client names is kept beside it.
        String by = request.createdBy() == null || request.createdBy().isBlank() || request.createdBy().equals(author.getName())
                ? author.getName() : author.getName() + " (" + request.createdBy().strip() + ")";
        Silence silence = new Silence(UUID.randomUUID().toString(), matchers, starts, ends, by,
                request.comment() == null ? "" : request.comment());
        store.saveSilence(silence);
        engine.reload();
        return view(silence);
    }

    @Operation(summary = "Expire a silence now")
    @DeleteMapping("/silences/{id}")
    public ResponseEntity<Void> expire(@Parameter(description = "The id, as listed.") @PathVariable String id) {
        if (!store.expireSilence(id)) {
            return ResponseEntity.notFound().build();
        }
        engine.reload();
        return ResponseEntity.noContent().build();
    }

    public record InhibitionRequest(List<String> source, List<String> target, List<String> equal) {
    }

    @Operation(summary = "The inhibitions: an alert that mutes others while it fires")
    @GetMapping("/inhibitions")
    public List<Inhibition> inhibitions() {
        return store.inhibitions();
    }

    @Operation(summary = "Create an inhibition")
    @PostMapping("/inhibitions")
    public Map<String, String> inhibit(@RequestBody InhibitionRequest request) {
        if (request.source() == null || request.source().isEmpty() || request.target() == null || request.target().isEmpty()) {
            throw new InvalidRule("source", "source and target matchers are required");
        }
        String id = UUID.randomUUID().toString();
        store.saveInhibition(id, new Inhibition(request.source().stream().map(Matcher::parse).toList(),
                request.target().stream().map(Matcher::parse).toList(), request.equal() == null ? List.of() : request.equal()));
        engine.reload();
        return Map.of("id", id);
    }

    @Operation(summary = "Delete an inhibition")
    @DeleteMapping("/inhibitions/{id}")
    public ResponseEntity<Void> deleteInhibition(@Parameter(description = "The id, as listed.") @PathVariable String id) {
        if (!store.deleteInhibition(id)) {
            return ResponseEntity.notFound().build();
        }
        engine.reload();
        return ResponseEntity.noContent().build();
    }

    public record ReceiverRequest(String name, String url, String format, List<String> secrets, List<String> matchers,
            List<String> groupBy, String groupWait, String groupInterval, String repeatInterval) {
    }

    public record ReceiverView(String name, String url, String format, List<String> matchers, List<String> groupBy,
            Duration groupWait, Duration groupInterval, Duration repeatInterval, boolean disabled, String disabledReason,
            int secrets) {
    }

    @Operation(summary = "The webhook receivers (their secrets are never shown)")
    @GetMapping("/receivers")
    public List<ReceiverView> receivers() {
        return store.receivers().stream().map(r -> new ReceiverView(r.name(), r.url(), r.format().name().toLowerCase(),
                r.matchers().stream().map(Matcher::toString).toList(), r.groupBy(), r.groupWait(), r.groupInterval(),
                r.repeatInterval(), r.disabled(), r.disabledReason(), r.secrets().size())).toList();
    }

    /**
     * Adds or replaces a receiver (and enables it again). Without secrets one is generated and
     * returned here only; with two, both sign every delivery until the old one is removed.
     */
    @Operation(summary = "Add or replace a webhook receiver; without secrets one is generated and returned here only")
    @PostMapping("/receivers")
    public Map<String, Object> receiver(@RequestBody ReceiverRequest request) {
        if (request.name() == null || !request.name().matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new InvalidRule("name", "is required: letters, digits, '.', '_' or '-'");
        }
        if (request.url() == null) {
            throw new InvalidRule("url", "is required");
        }
        String refusal = guard.refusal(request.url());
        if (refusal != null) {
            throw new InvalidRule("url", refusal);
        }
        Receiver.Format format;
        try {
            format = request.format() == null ? Receiver.Format.ALERTMANAGER
                    : Receiver.Format.valueOf(request.format().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidRule("format", "'" + request.format() + "' is not alertmanager or weir");
        }
        List<String> secrets = request.secrets() == null || request.secrets().isEmpty()
                ? List.of(Signatures.newSecret()) : request.secrets();
        for (int i = 0; i < secrets.size(); i++) {
            if (!Signatures.valid(secrets.get(i))) {
                throw new InvalidRule("secrets[" + i + "]", "must be whsec_ and at least 16 bytes in base64");
            }
        }
        Receiver receiver = new Receiver(request.name(), request.url(), format, secrets,
                request.matchers() == null ? List.of() : request.matchers().stream().map(Matcher::parse).toList(),
                request.groupBy() == null ? List.of("alertname") : request.groupBy(),
                duration("groupWait", request.groupWait() == null ? "30s" : request.groupWait()),
                duration("groupInterval", request.groupInterval() == null ? "5m" : request.groupInterval()),
                duration("repeatInterval", request.repeatInterval() == null ? "4h" : request.repeatInterval()), false, null);
        store.saveReceiver(receiver);
        engine.reload();
        return request.secrets() == null || request.secrets().isEmpty()
                ? Map.of("name", receiver.name(), "secret", secrets.get(0)) : Map.of("name", receiver.name());
    }

    @Operation(summary = "Delete a webhook receiver")
    @DeleteMapping("/receivers/{name}")
    public ResponseEntity<Void> deleteReceiver(@Parameter(description = "The receiver's name.") @PathVariable String name) {
        if (!store.deleteReceiver(name)) {
            return ResponseEntity.notFound().build();
        }
        engine.reload();
        return ResponseEntity.noContent().build();
    }

    public record Delivery(String webhookId, String receiver, String status, int attempts, Integer lastStatus,
            String lastError, Instant created, Instant nextAttemptAt, Instant deliveredAt) {
    }

    @Operation(summary = "Webhook deliveries, newest first: sent, retrying or dead")
    @GetMapping("/deliveries")
    public List<Delivery> deliveries(@Parameter(description = "sent, retrying or dead; all when absent.") @RequestParam(required = false) String status,
            @Parameter(description = "At most this many (1-1000).") @RequestParam(defaultValue = "100") int limit) {
        if (limit < 1 || limit > 1000) {
            throw new InvalidRule("limit", limit + " is out of range 1-1000");
        }
        return outbox.rows(status, limit).stream().map(r -> new Delivery(r.id(), r.receiver(), r.status(), r.attempts(),
                r.lastStatus(), r.lastError(), r.created(), r.nextAttemptAt(), r.deliveredAt())).toList();
    }

    private static Instant instant(String field, String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new InvalidRule(field, "'" + value + "' is not an ISO-8601 instant");
        }
    }

    private static Duration duration(String field, String value) {
        Duration d = RuleYaml.duration(field, value);
        if (d.isNegative() || d.isZero() && !field.equals("groupWait")) {
            throw new InvalidRule(field, "must be positive");
        }
        return d;
    }

    @ExceptionHandler(InvalidRule.class)
    public ProblemDetail invalid(InvalidRule e) {
        return ApiProblems.problem(HttpStatus.BAD_REQUEST, e.getMessage(), e.field());
    }
}
