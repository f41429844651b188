package dev.weir.dns.analytics;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** A serde of one protobuf message type, for state stores and internal topics. */
public final class ProtoSerde<M extends Message> implements Serde<M> {

    private final Parser<M> parser;

    public ProtoSerde(Parser<M> parser) {
        this.parser = parser;
    }

    @Override
    public Serializer<M> serializer() {
        return (topic, message) -> message == null ? null : message.toByteArray();
    }

    @Override
    public Deserializer<M> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return parser.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                throw new SerializationException("not a valid record of " + topic + ": " + e.getMessage(), e);
            }
        };
    }
}
