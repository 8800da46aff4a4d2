from php:8.3-apache
maintainer Jane Doe <jane@example.com>

env APACHE_DOCUMENT_ROOT /var/www/html/public
env COMPOSER_ALLOW_SUPERUSER 1

run sed -ri -e "s!/var/www/html!${APACHE_DOCUMENT_ROOT}!g" /etc/apache2/sites-available/*.conf \
 && a2enmod rewrite

add composer.json composer.lock /var/www/html/
add . /var/www/html
run chown -R www-data:www-data /var/www/html

volume /var/www/html/storage
expose 80
cmd apache2-foreground
