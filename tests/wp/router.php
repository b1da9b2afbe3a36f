<?php
/* PHP's built-in server: files as they are, everything else to WordPress (pretty permalinks).
 * Each request WordPress answers is logged to ../requests.log ("METHOD URI STATUS"): the
 * server itself does not log the requests a router script handles. */
register_shutdown_function(function () {
    file_put_contents(
        dirname($_SERVER['DOCUMENT_ROOT']) . '/requests.log',
        $_SERVER['REQUEST_METHOD'] . ' ' . $_SERVER['REQUEST_URI'] . ' ' . http_response_code() . "\n",
        FILE_APPEND | LOCK_EX
    );
});
if (is_file($_SERVER['DOCUMENT_ROOT'] . $path)) {
    return false;
}
if (is_file($_SERVER['DOCUMENT_ROOT'] . rtrim($path, '/') . '/index.php')) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
