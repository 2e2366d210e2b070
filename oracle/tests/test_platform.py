"""platform.py: the in-memory self-pipe and selector of runtimes without sockets (Pyodide),
checked here on the native interpreter, where they are not used by the loop."""

import math
import selectors
import unittest

from aiospec_oracle import platform


class MemorySelectorTests(unittest.TestCase):

    def setUp(self):
        self.selector = platform.MemorySelector()
        self.ssock, self.csock = self.selector.self_pipe()
        self.selector.register(self.ssock.fileno(), selectors.EVENT_READ, 'read-from-self')

    def test_a_byte_written_makes_the_reading_end_ready_until_read(self):
        self.assertEqual(self.selector.select(0), [])
        self.csock.send(b'\0')
        self.csock.send(b'\0')
        [(key, events)] = self.selector.select(0)
        self.assertEqual((key.fd, key.data, events), (self.ssock.fileno(), 'read-from-self',
                                                      selectors.EVENT_READ))
        self.assertEqual(self.ssock.recv(4096), b'\0\0')
        with self.assertRaises(BlockingIOError):  # how _read_from_self's loop ends
            self.ssock.recv(4096)
        self.assertEqual(self.selector.select(None), [])

    def test_unregistered_means_never_ready(self):
        self.selector.unregister(self.ssock.fileno())
        self.csock.send(b'\0')
        self.assertEqual(self.selector.select(0), [])

    def test_a_nan_timeout_fails_as_the_linux_default_selector_does(self):
        with self.assertRaises(ValueError) as mine:
            self.selector.select(math.nan)
        real = selectors.DefaultSelector()
        try:
            with self.assertRaises(ValueError) as native:
                real.select(math.nan)
        finally:
            real.close()
        self.assertEqual(str(mine.exception), str(native.exception))


class RuntimeTests(unittest.TestCase):

    def test_this_interpreter_is_native(self):
        self.assertTrue(platform.NATIVE)
        self.assertEqual(platform.RUNTIME, 'native')


if __name__ == '__main__':
    unittest.main()
