package io.nimbus.lin;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The history builder refuses histories a client could not have produced. */
class HistoryTest {

    @Test
    void recordsOperationsInInvocationOrder() {
        History h = new History()
                .invoke("a", Op.write("k", "1"), 0)
                .invoke("b", Op.read("k"), 1)
                .okNotFound("b", 2)
                .okWritten("a", "v1", 3)
                .invoke("b", Op.delete("k"), 4);
        List<Operation> ops = h.operations();
        assertEquals(List.of(0, 1, 2), ops.stream().map(Operation::id).toList());
        assertEquals(Operation.Outcome.OK, ops.get(0).outcome());
        assertEquals(3, ops.get(0).response());
        assertEquals(Operation.Outcome.INDETERMINATE, ops.get(2).outcome(), "still running at the end");
        assertEquals(Operation.NO_RESPONSE, ops.get(2).response());
    }

    @Test
    void aClientRunsOneOperationAtATime() {
        History h = new History().invoke("a", Op.read("k"), 0);
        assertThrows(IllegalStateException.class, () -> h.invoke("a", Op.read("k"), 1));
        assertThrows(IllegalStateException.class, () -> h.okNotFound("b", 1));
    }

    @Test
    void afterGivingUpAClientMayGoOn() {
        History h = new History().invoke("a", Op.write("k", "1"), 0).indeterminate("a")
                .invoke("a", Op.read("k"), 1).okNotFound("a", 2);
        assertEquals(2, h.operations().size());
    }

    @Test
    void outputsMustFitTheOperation() {
        assertThrows(IllegalArgumentException.class,
                () -> new History().invoke("a", Op.read("k"), 0).okWritten("a", "v1", 1));
        assertThrows(IllegalArgumentException.class,
                () -> new History().invoke("a", Op.write("k", "1"), 0).okNotFound("a", 1));
        assertThrows(IllegalArgumentException.class,
                () -> new History().invoke("a", Op.delete("k"), 0).okWritten("a", "v1", 1));
        assertThrows(IllegalArgumentException.class,
                () -> new History().invoke("a", Op.write("k", "1"), 0).rejected("a", Observed.unknown(), 1));
        assertThrows(IllegalArgumentException.class,
                () -> new History().invoke("a", Op.read("k"), 0).rejected("a", Observed.absent(), 1));
    }

    @Test
    void aResponseCannotPrecedeItsInvoke() {
        assertThrows(IllegalArgumentException.class,
                () -> new History().invoke("a", Op.read("k"), 5).okNotFound("a", 4));
    }
}
